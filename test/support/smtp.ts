import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message the test SMTP server accepted, decoded enough to assert on. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  text: string;
  html: string;
  raw: string;
}

/** A real SMTP server on 127.0.0.1 (a random port) that keeps what it accepts. */
export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** Refuse the next `n` messages with a 451 (a temporary failure). */
  failNext(n: number): void;
  close(): Promise<void>;
}

function decodePart(headers: string, body: string): string {
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(headers)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** Splits a MIME entity into its header block and body, with folded headers unfolded. */
function split(entity: string): { headers: string; body: string } {
  const at = entity.indexOf('\r\n\r\n');
  return { headers: entity.slice(0, at).replace(/\r\n[ \t]+/g, ' '), body: entity.slice(at + 4) };
}

/** Decodes a message nodemailer wrote: text and HTML alternatives, QP or base64. */
export function parseMail(raw: string, from: string, to: string[]): ReceivedMail {
  const { headers, body } = split(raw);
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(headers)?.[1]?.trim() ?? '';
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers)?.[1];
  let text = '';
  let html = '';
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1) : [raw];
  for (const part of parts) {
    const p = split(part.replace(/^\r\n/, ''));
    const type = /content-type:\s*([\w/]+)/i.exec(p.headers)?.[1]?.toLowerCase();
    const content = decodePart(p.headers, p.body.replace(/\r\n$/, ''));
    if (type === 'text/plain') text = content.replace(/\r\n/g, '\n');
    if (type === 'text/html') html = content;
  }
  return { from, to, subject: header('Subject'), messageId: header('Message-ID'), text, html, raw };
}

/** Starts the server; `url` is what SMTP_URL takes. */
export async function startSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let failures = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          const err = new Error('Try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          callback(err);
          return;
        }
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        mails.push(
          parseMail(
            Buffer.concat(chunks).toString('utf8'),
            from,
            session.envelope.rcptTo.map((r) => r.address),
          ),
        );
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    failNext: (n) => {
      failures = n;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
