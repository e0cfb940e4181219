-- The consent ledgers now reference their patient (one joined read per consent decision). The API
-- has always refused consent entries for unknown patients; if some database has any, stop here
-- with a count (no ids or data) rather than half-apply: the whole migration is one transaction.
DO $$
DECLARE orphans bigint;
BEGIN
  SELECT (SELECT count(*) FROM "Suppression" t WHERE NOT EXISTS (SELECT 1 FROM "Patient" p WHERE p.id = t."patientId"))
       + (SELECT count(*) FROM "Directive" t WHERE NOT EXISTS (SELECT 1 FROM "Patient" p WHERE p.id = t."patientId"))
       + (SELECT count(*) FROM "Restriction" t WHERE NOT EXISTS (SELECT 1 FROM "Patient" p WHERE p.id = t."patientId"))
       + (SELECT count(*) FROM "UnencryptedEmailElection" t WHERE NOT EXISTS (SELECT 1 FROM "Patient" p WHERE p.id = t."patientId"))
    INTO orphans;
  IF orphans > 0 THEN
    RAISE EXCEPTION '% consent ledger row(s) name no known patient; they must be reconciled before this upgrade', orphans;
  END IF;
END $$;

-- AddForeignKey
ALTER TABLE "Suppression" ADD CONSTRAINT "Suppression_patientId_fkey" FOREIGN KEY ("patientId") REFERENCES "Patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "UnencryptedEmailElection" ADD CONSTRAINT "UnencryptedEmailElection_patientId_fkey" FOREIGN KEY ("patientId") REFERENCES "Patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Directive" ADD CONSTRAINT "Directive_patientId_fkey" FOREIGN KEY ("patientId") REFERENCES "Patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Restriction" ADD CONSTRAINT "Restriction_patientId_fkey" FOREIGN KEY ("patientId") REFERENCES "Patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

