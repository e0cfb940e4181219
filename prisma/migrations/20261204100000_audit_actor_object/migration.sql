-- Hand-written (LOG-01): an audit event must name its actor, its action and its object.
ALTER TABLE "AuditEvent" ADD CONSTRAINT "AuditEvent_actor_object" CHECK (btrim("principal") <> '' AND btrim("action") <> '' AND btrim("objectType") <> '');
