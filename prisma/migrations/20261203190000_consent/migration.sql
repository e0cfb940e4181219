-- CreateEnum
CREATE TYPE "AuthorizationEndKind" AS ENUM ('revocation', 'expiration_event', 'defect');

-- CreateEnum
CREATE TYPE "SuppressionKind" AS ENUM ('unsubscribe', 'unsubscribe_all', 'hard_bounce', 'complaint', 'fundraising_opt_out', 'fundraising_opt_in');

-- CreateEnum
CREATE TYPE "DirectiveKind" AS ENUM ('redirect', 'forbid_channel', 'require_portal', 'withdrawn');

-- AlterEnum
ALTER TYPE "MessageStatus" ADD VALUE 'denied';

-- CreateTable
CREATE TABLE "Authorization" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "infoDescription" TEXT NOT NULL,
    "infoCategories" TEXT[],
    "disclosers" TEXT[],
    "recipients" TEXT[],
    "purposes" TEXT[],
    "channels" TEXT[],
    "sponsors" TEXT[],
    "remunerationDisclosed" BOOLEAN NOT NULL DEFAULT false,
    "saleOfPhi" BOOLEAN NOT NULL DEFAULT false,
    "expiresAt" TIMESTAMP(3),
    "expirationEvent" TEXT,
    "signedAt" TIMESTAMP(3) NOT NULL,
    "signer" JSONB NOT NULL,
    "signature" JSONB NOT NULL,
    "statements" JSONB NOT NULL,
    "templateVersion" TEXT NOT NULL,
    "documentHash" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "compound" BOOLEAN NOT NULL DEFAULT false,
    "conditioned" BOOLEAN NOT NULL DEFAULT false,
    "falseInformation" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Authorization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuthorizationEnd" (
    "id" TEXT NOT NULL,
    "authorizationId" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "kind" "AuthorizationEndKind" NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "source" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuthorizationEnd_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Suppression" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "kind" "SuppressionKind" NOT NULL,
    "stream" TEXT,
    "channel" TEXT NOT NULL DEFAULT 'email',
    "source" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Suppression_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Directive" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "kind" "DirectiveKind" NOT NULL,
    "channel" TEXT NOT NULL DEFAULT 'email',
    "address" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source" TEXT NOT NULL,

    CONSTRAINT "Directive_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Restriction" (
    "id" TEXT NOT NULL,
    "patientId" TEXT NOT NULL,
    "purposes" TEXT[],
    "agreedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "endsAt" TIMESTAMP(3),
    "source" TEXT NOT NULL,

    CONSTRAINT "Restriction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Decision" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "patientId" TEXT NOT NULL,
    "enrollmentId" TEXT,
    "nodeId" TEXT,
    "phase" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "allow" BOOLEAN NOT NULL,
    "reasons" TEXT[],
    "authorizationId" TEXT,
    "contactPoint" TEXT,
    "principal" TEXT NOT NULL,

    CONSTRAINT "Decision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "principal" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "objectType" TEXT NOT NULL,
    "objectId" TEXT,
    "outcome" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Authorization_patientId_idx" ON "Authorization"("patientId");

-- CreateIndex
CREATE INDEX "AuthorizationEnd_patientId_idx" ON "AuthorizationEnd"("patientId");

-- CreateIndex
CREATE INDEX "Suppression_patientId_idx" ON "Suppression"("patientId");

-- CreateIndex
CREATE INDEX "Directive_patientId_idx" ON "Directive"("patientId");

-- CreateIndex
CREATE INDEX "Restriction_patientId_idx" ON "Restriction"("patientId");

-- CreateIndex
CREATE INDEX "Decision_patientId_at_idx" ON "Decision"("patientId", "at");

-- CreateIndex
CREATE INDEX "Decision_enrollmentId_idx" ON "Decision"("enrollmentId");

-- CreateIndex
CREATE INDEX "AuditEvent_objectType_objectId_idx" ON "AuditEvent"("objectType", "objectId");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- AddForeignKey
ALTER TABLE "Authorization" ADD CONSTRAINT "Authorization_patientId_fkey" FOREIGN KEY ("patientId") REFERENCES "Patient"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AuthorizationEnd" ADD CONSTRAINT "AuthorizationEnd_authorizationId_fkey" FOREIGN KEY ("authorizationId") REFERENCES "Authorization"("id") ON DELETE RESTRICT ON UPDATE CASCADE;




-- Hand-written: consent ledgers are append-only (AUTH-10, INV-6, SEC-06). Any UPDATE or DELETE,
-- even by the application's own role, is refused; a change is a new row.
CREATE FUNCTION haven_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table % is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "Authorization_append_only" BEFORE UPDATE OR DELETE ON "Authorization" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "AuthorizationEnd_append_only" BEFORE UPDATE OR DELETE ON "AuthorizationEnd" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Suppression_append_only" BEFORE UPDATE OR DELETE ON "Suppression" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Directive_append_only" BEFORE UPDATE OR DELETE ON "Directive" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Restriction_append_only" BEFORE UPDATE OR DELETE ON "Restriction" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Decision_append_only" BEFORE UPDATE OR DELETE ON "Decision" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "AuditEvent_append_only" BEFORE UPDATE OR DELETE ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Authorization_no_truncate" BEFORE TRUNCATE ON "Authorization" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "AuthorizationEnd_no_truncate" BEFORE TRUNCATE ON "AuthorizationEnd" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Suppression_no_truncate" BEFORE TRUNCATE ON "Suppression" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Directive_no_truncate" BEFORE TRUNCATE ON "Directive" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Restriction_no_truncate" BEFORE TRUNCATE ON "Restriction" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "Decision_no_truncate" BEFORE TRUNCATE ON "Decision" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
CREATE TRIGGER "AuditEvent_no_truncate" BEFORE TRUNCATE ON "AuditEvent" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
