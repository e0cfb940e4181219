-- CreateTable
CREATE TABLE "ReidentificationCode" (
    "code" TEXT NOT NULL,
    "exportId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReidentificationCode_pkey" PRIMARY KEY ("code")
);

-- CreateIndex
CREATE UNIQUE INDEX "ReidentificationCode_exportId_patientId_key" ON "ReidentificationCode"("exportId", "patientId");

