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

-- Records that are closed once and otherwise never change (a legal hold released, a break-glass
-- ended, a data use agreement terminated): haven_close_once('<verb>', '<column>', …) allows one
-- UPDATE that sets the listed columns, from the first being NULL, and touches nothing else.
CREATE FUNCTION haven_close_once() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  closing text[] := TG_ARGV[1:TG_NARGS - 1];
  ok boolean := TG_OP = 'UPDATE';
  col text;
BEGIN
  IF ok THEN
    ok := to_jsonb(OLD) ->> closing[1] IS NULL AND (to_jsonb(NEW) - closing) = (to_jsonb(OLD) - closing);
    FOREACH col IN ARRAY closing LOOP
      ok := ok AND to_jsonb(NEW) ->> col IS NOT NULL;
    END LOOP;
  END IF;
  IF ok THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% can only be %', TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "LegalHold_release_only" BEFORE UPDATE OR DELETE ON "LegalHold" FOR EACH ROW EXECUTE FUNCTION haven_close_once('released', 'releasedAt', 'releasedBy');
CREATE TRIGGER "LegalHold_no_truncate" BEFORE TRUNCATE ON "LegalHold" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
