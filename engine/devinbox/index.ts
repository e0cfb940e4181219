// Development inbox: a real SMTP server (npm smtp-server) that keeps every message it receives
// (as .eml files when given a folder, so a restart keeps them) and shows them over HTTP. `npm
// start` points Haven's mail at it; tests use it as the SMTP peer. Never a production component.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  id: number;
  receivedAt: string;
  envelope: { from: string; to: string[] };
  subject: string;
  from: string;
  to: string;
  messageId: string;
  text: string;
  html: string;
  raw: string;
}

export interface DevInbox {
  smtpPort: number;
  messages: ReceivedMail[];
  /** Resolves with the first message matching `match`, waiting for it to arrive if needed. */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export async function startDevInbox(options: { host?: string; port?: number; dir?: string } = {}): Promise<DevInbox> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  if (options.dir) {
    await mkdir(options.dir, { recursive: true });
    for (const file of (await readdir(options.dir)).filter((f) => f.endsWith('.eml')).sort()) {
      const raw = await readFile(path.join(options.dir, file), 'utf8');
      messages.push(await parse(messages.length + 1, raw, { from: '', to: [] }, file.slice(0, -4)));
    }
  }

  const server = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: the encryption policy is tested against dedicated TLS peers.
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 25 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        const receivedAt = new Date().toISOString();
        parse(messages.length + 1, raw, envelope, receivedAt)
          .then(async (mail) => {
            if (options.dir) await writeFile(path.join(options.dir, `${receivedAt.replace(/[:.]/g, '-')}-${mail.id}.eml`), raw);
            messages.push(mail);
            for (const wake of waiters) wake();
            callback();
          })
          .catch((e: Error) => callback(e));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const smtpPort = typeof address === 'object' && address ? address.port : 0;

  return {
    smtpPort,
    messages,
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function parse(id: number, raw: string, envelope: ReceivedMail['envelope'], receivedAt: string): Promise<ReceivedMail> {
  const parsed = await simpleParser(raw);
  const addressText = (a: typeof parsed.from | typeof parsed.to) => (Array.isArray(a) ? a.map((x) => x.text).join(', ') : (a?.text ?? ''));
  return {
    id,
    receivedAt,
    envelope,
    subject: parsed.subject ?? '',
    from: addressText(parsed.from),
    to: addressText(parsed.to),
    messageId: parsed.messageId ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    raw,
  };
}

/** The inbox's web page (`/`), JSON list (`/api/messages`) and one message (`/messages/:id`). */
export function buildDevInboxHttp(inbox: DevInbox): FastifyInstance {
  const app = Fastify();
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  app.get('/api/messages', async () => inbox.messages.map(({ raw: _raw, ...m }) => m));
  app.get('/messages/:id', async (req, reply) => {
    const m = inbox.messages.find((x) => x.id === Number((req.params as { id: string }).id));
    if (!m) return reply.code(404).send('no such message');
    return reply
      .type('text/html')
      .header('content-security-policy', "default-src 'none'; img-src *; style-src 'unsafe-inline'; frame-src 'self'")
      .send(
        `<!doctype html><meta charset="utf-8"><title>${esc(m.subject)}</title><p><a href="/">← inbox</a></p>` +
          `<p><b>From</b> ${esc(m.from)}<br><b>To</b> ${esc(m.to)}<br><b>Subject</b> ${esc(m.subject)}</p>` +
          `<iframe sandbox style="width:100%;height:70vh;border:1px solid #ccc" srcdoc="${esc(m.html || `<pre>${esc(m.text)}</pre>`)}"></iframe>`,
      );
  });
  app.get('/', async (_req, reply) => {
    const rows = [...inbox.messages]
      .reverse()
      .map((m) => `<tr><td>${esc(m.receivedAt)}</td><td>${esc(m.to)}</td><td><a href="/messages/${m.id}">${esc(m.subject || '(no subject)')}</a></td></tr>`)
      .join('');
    return reply
      .type('text/html')
      .send(`<!doctype html><meta charset="utf-8"><title>Haven dev inbox</title><h1>Haven dev inbox</h1><p>${inbox.messages.length} message(s); SMTP on port ${inbox.smtpPort}.</p><table>${rows}</table>`);
  });
  return app;
}
