-- CreateTable
CREATE TABLE "DataUseAgreement" (
    "id" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "permittedUses" TEXT NOT NULL,
    "signedAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3),
    "documentRef" TEXT NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "terminatedAt" TIMESTAMP(3),

    CONSTRAINT "DataUseAgreement_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ExpertDetermination" (
    "id" TEXT NOT NULL,
    "expert" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "documentRef" TEXT NOT NULL,
    "fields" TEXT[],
    "recipients" TEXT[],
    "determinedAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ExpertDetermination_pkey" PRIMARY KEY ("id")
);


-- Hand-written: agreements and determinations are records of what was agreed; they are never
-- rewritten or deleted (a DUA may only be terminated, once).
CREATE TRIGGER "DataUseAgreement_terminate_only" BEFORE UPDATE OR DELETE ON "DataUseAgreement" FOR EACH ROW EXECUTE FUNCTION haven_close_once('terminated', 'terminatedAt');
CREATE TRIGGER "ExpertDetermination_append_only" BEFORE UPDATE OR DELETE ON "ExpertDetermination" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
