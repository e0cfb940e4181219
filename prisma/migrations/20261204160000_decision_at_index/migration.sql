-- CreateIndex
CREATE INDEX "Decision_at_idx" ON "Decision"("at");

