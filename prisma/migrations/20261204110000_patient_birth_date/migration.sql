-- AlterTable
ALTER TABLE "Patient" ADD COLUMN     "birthDate" TEXT;
