-- CreateEnum
CREATE TYPE "JourneyStatus" AS ENUM ('draft', 'active', 'stopped');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "EnrollmentStatus" ADD VALUE 'exited';
ALTER TYPE "EnrollmentStatus" ADD VALUE 'converted';
ALTER TYPE "EnrollmentStatus" ADD VALUE 'stopped';

-- DropIndex
DROP INDEX "Enrollment_journeyId_patientId_key";

-- AlterTable
ALTER TABLE "Patient" ADD COLUMN     "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "timezone" TEXT;

-- AlterTable
ALTER TABLE "Journey" ADD COLUMN     "status" "JourneyStatus" NOT NULL DEFAULT 'draft';

-- AlterTable
ALTER TABLE "Enrollment" ADD COLUMN     "activeKey" TEXT,
ADD COLUMN     "endedAt" TIMESTAMP(3),
ADD COLUMN     "key" TEXT,
ADD COLUMN     "ref" TEXT;

-- Backfill (hand-written): earlier runs keep their workflow ids (`jrny:<journey>:<ref>`);
-- runs still going hold the active slot; journeys already published are active.
UPDATE "Enrollment" SET "ref" = split_part("workflowId", ':', 3);
UPDATE "Enrollment" SET "activeKey" = "journeyId" || '|' || "patientId" || '|' WHERE "status" IN ('starting', 'active');
UPDATE "Journey" SET "status" = 'active' WHERE EXISTS (SELECT 1 FROM "JourneyVersion" v WHERE v."journeyId" = "Journey"."id");
ALTER TABLE "Enrollment" ALTER COLUMN "ref" SET NOT NULL;

-- CreateTable
CREATE TABLE "Audience" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "attributes" JSONB NOT NULL DEFAULT '{}',
    "filter" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Audience_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Conversion" (
    "id" TEXT NOT NULL,
    "enrollmentId" TEXT NOT NULL,
    "journeyId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "path" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Conversion_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Conversion_enrollmentId_key" ON "Conversion"("enrollmentId");

-- CreateIndex
CREATE INDEX "Conversion_journeyId_idx" ON "Conversion"("journeyId");

-- CreateIndex
CREATE UNIQUE INDEX "Enrollment_ref_key" ON "Enrollment"("ref");

-- CreateIndex
CREATE UNIQUE INDEX "Enrollment_activeKey_key" ON "Enrollment"("activeKey");

-- CreateIndex
CREATE INDEX "Enrollment_journeyId_patientId_idx" ON "Enrollment"("journeyId", "patientId");

-- CreateIndex
CREATE INDEX "Enrollment_patientId_status_idx" ON "Enrollment"("patientId", "status");

-- CreateIndex
CREATE INDEX "Message_patientId_createdAt_idx" ON "Message"("patientId", "createdAt");

-- AddForeignKey
ALTER TABLE "Conversion" ADD CONSTRAINT "Conversion_enrollmentId_fkey" FOREIGN KEY ("enrollmentId") REFERENCES "Enrollment"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conversion" ADD CONSTRAINT "Conversion_journeyId_fkey" FOREIGN KEY ("journeyId") REFERENCES "Journey"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

