-- CreateTable
CREATE TABLE "UnencryptedEmailElection" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "channel" TEXT NOT NULL DEFAULT 'email',
    "address" TEXT,
    "warnedAt" TIMESTAMP(3),
    "warningTextVersion" TEXT,
    "acceptedAt" TIMESTAMP(3),
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL,

    CONSTRAINT "UnencryptedEmailElection_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UnencryptedEmailElection_patientId_idx" ON "UnencryptedEmailElection"("patientId");


-- Consent ledgers are append-only (see 20261203190000_consent).
CREATE TRIGGER "UnencryptedEmailElection_append_only" BEFORE UPDATE OR DELETE ON "UnencryptedEmailElection" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "UnencryptedEmailElection_no_truncate" BEFORE TRUNCATE ON "UnencryptedEmailElection" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
