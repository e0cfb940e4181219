-- AlterTable
ALTER TABLE "Patient" ADD COLUMN     "emailIndex" TEXT;

-- CreateTable
CREATE TABLE "DataKey" (
    "id" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "masterKeyId" TEXT NOT NULL,
    "wrapped" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DataKey_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Patient_emailIndex_idx" ON "Patient"("emailIndex");

