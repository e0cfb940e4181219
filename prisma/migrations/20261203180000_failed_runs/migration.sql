-- AlterEnum
ALTER TYPE "EnrollmentStatus" ADD VALUE 'failed';

