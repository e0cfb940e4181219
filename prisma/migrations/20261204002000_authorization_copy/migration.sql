-- AlterTable
ALTER TABLE "Authorization" ADD COLUMN     "requestedBy" TEXT NOT NULL DEFAULT 'covered_entity';

-- CreateTable
CREATE TABLE "AuthorizationCopy" (
    "id" TEXT NOT NULL,
    "authorizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "channel" TEXT NOT NULL DEFAULT 'email',
    "status" TEXT NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "copyProvidedAt" TIMESTAMP(3),
    "result" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AuthorizationCopy_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuthorizationCopy_authorizationId_key" ON "AuthorizationCopy"("authorizationId");

-- CreateIndex
CREATE INDEX "AuthorizationCopy_status_idx" ON "AuthorizationCopy"("status");

-- CreateIndex
CREATE INDEX "AuthorizationCopy_patientId_idx" ON "AuthorizationCopy"("patientId");

