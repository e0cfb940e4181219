-- AlterTable
ALTER TABLE "AuditCheckpoint" ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'checkpoint';

-- CreateTable
CREATE TABLE "LegalHold" (
    "id" TEXT NOT NULL,
    "patientId" TEXT,
    "reason" TEXT NOT NULL,
    "placedBy" TEXT NOT NULL,
    "placedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "releasedAt" TIMESTAMP(3),
    "releasedBy" TEXT,

    CONSTRAINT "LegalHold_pkey" PRIMARY KEY ("id")
);


-- Hand-written (LOG-04, AUTH-10): the ledgers stay append-only, with one exception — the retention
-- job, which marks its transaction with `haven.retention_job = on`, may delete a row whose time
-- column (the trigger's argument) is more than six years old. Nothing younger can be deleted by
-- anyone going through the triggers, whatever the job's own rules say.
CREATE OR REPLACE FUNCTION haven_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND TG_NARGS = 1 AND current_setting('haven.retention_job', true) = 'on'
     AND (to_jsonb(OLD) ->> TG_ARGV[0])::timestamp < (now() AT TIME ZONE 'UTC') - interval '6 years' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
DROP TRIGGER "Authorization_append_only" ON "Authorization";
CREATE TRIGGER "Authorization_append_only" BEFORE UPDATE OR DELETE ON "Authorization" FOR EACH ROW EXECUTE FUNCTION haven_append_only('createdAt');
DROP TRIGGER "AuthorizationEnd_append_only" ON "AuthorizationEnd";
CREATE TRIGGER "AuthorizationEnd_append_only" BEFORE UPDATE OR DELETE ON "AuthorizationEnd" FOR EACH ROW EXECUTE FUNCTION haven_append_only('createdAt');
DROP TRIGGER "Decision_append_only" ON "Decision";
CREATE TRIGGER "Decision_append_only" BEFORE UPDATE OR DELETE ON "Decision" FOR EACH ROW EXECUTE FUNCTION haven_append_only('at');
DROP TRIGGER "AuditEvent_append_only" ON "AuditEvent";
CREATE TRIGGER "AuditEvent_append_only" BEFORE UPDATE OR DELETE ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION haven_append_only('at');

-- A hold is released, never deleted or rewritten.
CREATE FUNCTION haven_legal_hold_release_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD."releasedAt" IS NULL AND NEW."releasedAt" IS NOT NULL AND NEW."releasedBy" IS NOT NULL
     AND NEW."id" = OLD."id" AND NEW."patientId" IS NOT DISTINCT FROM OLD."patientId" AND NEW."reason" = OLD."reason"
     AND NEW."placedBy" = OLD."placedBy" AND NEW."placedAt" = OLD."placedAt" THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'a legal hold can only be released' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "LegalHold_release_only" BEFORE UPDATE OR DELETE ON "LegalHold" FOR EACH ROW EXECUTE FUNCTION haven_legal_hold_release_only();
CREATE TRIGGER "LegalHold_no_truncate" BEFORE TRUNCATE ON "LegalHold" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
