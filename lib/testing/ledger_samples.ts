/**
 * Test samples for the ledger's built-in secret rules: for every rule a
 * positive sample (with the secret it must report) and a negative sample it
 * must not report. The secrets are synthetic, made by a seeded generator so
 * their lengths are right by construction.
 *
 * @module
 */

/** One rule's samples. */
export interface RuleSample {
  /** Rule id. */
  readonly ruleId: string;
  /** Text that must produce a finding of this rule. */
  readonly positive: string;
  /** The secret the finding must report. */
  readonly secret: string;
  /** Text that must not produce a finding of this rule. */
  readonly negative: string;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX = "0123456789abcdef";
const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64 = ALNUM + "+/";
const URLSAFE = ALNUM + "_-";

/**
 * A deterministic pseudo-random string.
 *
 * @param alphabet The characters to draw from.
 * @param length The length.
 * @param seed The seed.
 * @returns The string.
 *
 * @example
 * ```ts
 * import { seeded } from "./ledger_samples.ts";
 * console.assert(seeded("ab", 4, 1) === seeded("ab", 4, 1));
 * ```
 */
export function seeded(alphabet: string, length: number, seed: number): string {
  let x = (seed * 2654435761) >>> 0 || 1;
  let out = "";
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

const uuid = (seed: number): string => {
  const h = seeded(HEX, 32, seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${
    h.slice(16, 20)
  }-${h.slice(20)}`;
};

function sample(
  ruleId: string,
  secret: string,
  wrap: (s: string) => string,
  negative: string,
): RuleSample {
  return { ruleId, positive: wrap(secret), secret, negative };
}

const pem = seeded(B64, 64, 77);

/**
 * One positive and one negative sample per built-in rule.
 *
 * @example
 * ```ts
 * import { RULE_SAMPLES } from "./ledger_samples.ts";
 * console.assert(RULE_SAMPLES.length >= 25);
 * ```
 */
export const RULE_SAMPLES: readonly RuleSample[] = [
  sample(
    "aws-access-key-id",
    "AKIA" + seeded(B32, 16, 1),
    (s) => `aws_access_key_id = ${s}`,
    "id = AKIA1234567890123456",
  ),
  sample(
    "aws-secret-access-key",
    seeded(B64, 40, 2),
    (s) => `aws_secret_access_key = "${s}"`,
    `aws_secret_access_key = "short"`,
  ),
  sample(
    "github-pat",
    "ghp_" + seeded(ALNUM, 36, 3),
    (s) => `GITHUB_TOKEN=${s}`,
    "GITHUB_TOKEN=ghp_" + seeded(ALNUM, 20, 3),
  ),
  sample(
    "github-oauth",
    "gho_" + seeded(ALNUM, 36, 4),
    (s) => `token: ${s}`,
    "token: gho_" + seeded(ALNUM, 35, 4) + "!",
  ),
  sample(
    "github-app-token",
    "ghs_" + seeded(ALNUM, 36, 5),
    (s) => `installation ${s}`,
    "installation ghx_" + seeded(ALNUM, 36, 5),
  ),
  sample(
    "github-refresh-token",
    "ghr_" + seeded(ALNUM, 40, 6),
    (s) => `refresh=${s}`,
    "refresh=ghr_" + seeded(ALNUM, 12, 6),
  ),
  sample(
    "github-fine-grained-pat",
    "github_pat_" + seeded(ALNUM + "_", 82, 7),
    (s) => `pat ${s}`,
    "pat github_pat_" + seeded(ALNUM, 30, 7),
  ),
  sample(
    "gitlab-pat",
    "glpat-" + seeded(URLSAFE, 20, 8),
    (s) => `GITLAB_TOKEN: ${s}`,
    "GITLAB_TOKEN: glpat-" + seeded(ALNUM, 10, 8),
  ),
  sample(
    "gitlab-runner-token",
    "glrt-" + seeded(URLSAFE, 20, 9),
    (s) => `runner ${s}`,
    "runner glrt-" + seeded(ALNUM, 5, 9),
  ),
  sample(
    "circleci-pat",
    "CCIPAT_" + seeded(ALNUM, 22, 10) + "_" + seeded(HEX, 40, 10),
    (s) => `CIRCLE_TOKEN=${s}`,
    "CIRCLE_TOKEN=CCIPAT_" + seeded(ALNUM, 22, 10) + "_" + "g".repeat(40),
  ),
  sample(
    "docker-hub-pat",
    "dckr_pat_" + seeded(URLSAFE, 27, 11),
    (s) => `docker login -p ${s}`,
    "docker login -p dckr_pat_" + seeded(ALNUM, 10, 11),
  ),
  sample(
    "npm-token",
    "npm_" + seeded(ALNUM, 36, 12),
    (s) => `//registry.npmjs.org/:_authToken=${s}`,
    "run npm_install now",
  ),
  sample(
    "pypi-token",
    "pypi-AgEIcHlwaS5vcmc" + seeded(URLSAFE, 60, 13),
    (s) => `password = ${s}`,
    "password = pypi-AgEIcHlwaS5vcmc" + seeded(ALNUM, 10, 13),
  ),
  sample(
    "slack-token",
    "xoxb-1234567890-1234567890123-" + seeded(ALNUM, 24, 14),
    (s) => `SLACK_BOT_TOKEN=${s}`,
    "SLACK_BOT_TOKEN=xoxb-123-abc",
  ),
  sample(
    "slack-webhook",
    "https://hooks.slack.com/services/T" + seeded(B32, 10, 15) + "/B" +
      seeded(B32, 10, 16) + "/" + seeded(ALNUM, 24, 15),
    (s) => `url = "${s}"`,
    `url = "https://hooks.slack.com/services/"`,
  ),
  sample(
    "discord-webhook",
    "https://discord.com/api/webhooks/123456789012345678/" +
      seeded(URLSAFE, 68, 17),
    (s) => `hook: ${s}`,
    "hook: https://discord.com/api/webhooks/123/abc",
  ),
  sample(
    "teams-webhook",
    `https://contoso.webhook.office.com/webhookb2/${uuid(18)}@${
      uuid(19)
    }/IncomingWebhook/${seeded(HEX, 32, 20)}/${uuid(21)}`,
    (s) => `teams = ${s}`,
    `teams = https://contoso.webhook.office.com/webhookb2/${uuid(18)}`,
  ),
  sample(
    "telegram-bot-token",
    "123456789:AA" + seeded(URLSAFE, 33, 22),
    (s) => `BOT_TOKEN=${s}`,
    "BOT_TOKEN=12:AAabc",
  ),
  sample(
    "private-key",
    `-----BEGIN RSA PRIVATE KEY-----\n${pem}\n-----END RSA PRIVATE KEY-----`,
    (s) => `key:\n${s}\n`,
    `-----BEGIN PUBLIC KEY-----\n${pem}\n-----END PUBLIC KEY-----`,
  ),
  sample(
    "jwt",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." +
      seeded(URLSAFE, 43, 23),
    (s) => `Authorization: Bearer ${s}`,
    "header eyJhbGciOiJIUzI1NiJ9 only",
  ),
  sample(
    "stripe-secret-key",
    "sk_live_" + seeded(ALNUM, 24, 24),
    (s) => `STRIPE_KEY=${s}`,
    "STRIPE_KEY=sk_live_short",
  ),
  sample(
    "google-api-key",
    "AIza" + seeded(URLSAFE, 35, 25),
    (s) => `key=${s}&q=1`,
    "key=AIza" + seeded(ALNUM, 10, 25),
  ),
  sample(
    "gcp-service-account-key-id",
    seeded(HEX, 40, 26),
    (s) => `{"type": "service_account", "private_key_id": "${s}"}`,
    `{"private_key_id": "${seeded(HEX, 10, 26)}"}`,
  ),
  sample(
    "azure-storage-key",
    seeded(B64, 86, 27) + "==",
    (s) =>
      `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${s};EndpointSuffix=core.windows.net`,
    "AccountKey=abc==;",
  ),
  sample(
    "sendgrid-api-key",
    "SG." + seeded(URLSAFE, 22, 28) + "." + seeded(URLSAFE, 43, 29),
    (s) => `SENDGRID=${s}`,
    "SENDGRID=SG.short.x",
  ),
  sample(
    "mailgun-api-key",
    "key-" + seeded(HEX, 32, 30),
    (s) => `MAILGUN=${s}`,
    "MAILGUN=key-" + "ghijklmnopqrstuvwxyzghijklmnopqr",
  ),
  sample(
    "shopify-token",
    "shpat_" + seeded(HEX, 32, 31),
    (s) => `SHOPIFY=${s}`,
    "SHOPIFY=shpat_" + seeded(HEX, 10, 31),
  ),
  sample(
    "heroku-api-key",
    uuid(32),
    (s) => `HEROKU_API_KEY=${s}`,
    "HEROKU_API_KEY=not-a-uuid",
  ),
  sample(
    "url-credentials",
    seeded(ALNUM, 12, 33),
    (s) => `DATABASE_URL=postgres://admin:${s}@db.internal:5432/app`,
    "DATABASE_URL=postgres://admin:password@db.internal:5432/app",
  ),
  sample(
    "generic-secret-assignment",
    seeded(ALNUM, 28, 34),
    (s) => `api_key = "${s}"`,
    `api_key = "my_api_key_placeholder_value"`,
  ),
];
