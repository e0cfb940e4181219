-- CreateTable
CREATE TABLE "BreakGlass" (
    "id" TEXT NOT NULL,
    "principal" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "BreakGlass_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "principal" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "notifiedAt" TIMESTAMP(3),
    "acknowledgedAt" TIMESTAMP(3),
    "acknowledgedBy" TEXT,

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "BreakGlass_principal_expiresAt_idx" ON "BreakGlass"("principal", "expiresAt");

-- CreateIndex
CREATE INDEX "Alert_kind_principal_createdAt_idx" ON "Alert"("kind", "principal", "createdAt");

-- CreateIndex
CREATE INDEX "Alert_notifiedAt_idx" ON "Alert"("notifiedAt");

-- CreateIndex
CREATE INDEX "AuditEvent_principal_at_idx" ON "AuditEvent"("principal", "at");


-- Hand-written (SEC-02): an elevation is only ever ended early; its reason, holder and time box stay
-- as they were written.
CREATE TRIGGER "BreakGlass_end_only" BEFORE UPDATE OR DELETE ON "BreakGlass" FOR EACH ROW EXECUTE FUNCTION haven_close_once('ended', 'endedAt');
CREATE TRIGGER "BreakGlass_no_truncate" BEFORE TRUNCATE ON "BreakGlass" FOR EACH STATEMENT EXECUTE FUNCTION haven_append_only();
