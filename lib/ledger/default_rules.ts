/**
 * loom's built-in secret rules, written for loom in the gitleaks TOML
 * format (so `--rules-file` can start from a copy): cloud keys, VCS and CI
 * tokens, package registry tokens, chat webhooks, private-key PEM blocks,
 * JWTs, credentials in URLs and generic high-entropy assignments. Every rule
 * has keywords for the `manual` anchor mode and a positive and a negative
 * sample in the tests.
 *
 * @module
 */

import { parseRulesToml, type RuleSet } from "./rules.ts";

/**
 * The built-in rules as gitleaks TOML.
 *
 * @example
 * ```ts
 * import { DEFAULT_RULES_TOML } from "./default_rules.ts";
 * console.assert(DEFAULT_RULES_TOML.includes('id = "github-pat"'));
 * ```
 */
export const DEFAULT_RULES_TOML: string = String
  .raw`title = "loom built-in rules"

[[rules]]
id = "aws-access-key-id"
description = "AWS access key id"
regex = '''\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b'''
keywords = ["akia", "asia", "abia", "acca"]

[[rules]]
id = "aws-secret-access-key"
description = "AWS secret access key in an assignment"
regex = '''(?i)\baws_?secret_?(?:access_?)?key\b["']?\s*(?:=|:|:=|=>)\s*["']?([A-Za-z0-9/+]{40})(?:["'\s;,]|$)'''
keywords = ["aws_secret", "awssecret"]
entropy = 3.5

[[rules]]
id = "github-pat"
description = "GitHub personal access token (classic)"
regex = '''\b(ghp_[A-Za-z0-9]{36})\b'''
keywords = ["ghp_"]

[[rules]]
id = "github-oauth"
description = "GitHub OAuth access token"
regex = '''\b(gho_[A-Za-z0-9]{36})\b'''
keywords = ["gho_"]

[[rules]]
id = "github-app-token"
description = "GitHub App user-to-server or server-to-server token"
regex = '''\b((?:ghu|ghs)_[A-Za-z0-9]{36})\b'''
keywords = ["ghu_", "ghs_"]

[[rules]]
id = "github-refresh-token"
description = "GitHub refresh token"
regex = '''\b(ghr_[A-Za-z0-9]{36,76})\b'''
keywords = ["ghr_"]

[[rules]]
id = "github-fine-grained-pat"
description = "GitHub fine-grained personal access token"
regex = '''\b(github_pat_[A-Za-z0-9_]{82})\b'''
keywords = ["github_pat_"]

[[rules]]
id = "gitlab-pat"
description = "GitLab personal access token"
regex = '''\b(glpat-[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)'''
keywords = ["glpat-"]

[[rules]]
id = "gitlab-runner-token"
description = "GitLab runner authentication token"
regex = '''\b(glrt-[A-Za-z0-9_-]{20})(?:[^A-Za-z0-9_-]|$)'''
keywords = ["glrt-"]

[[rules]]
id = "circleci-pat"
description = "CircleCI personal API token"
regex = '''\b(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})\b'''
keywords = ["ccipat_"]

[[rules]]
id = "docker-hub-pat"
description = "Docker Hub personal access token"
regex = '''\b(dckr_pat_[A-Za-z0-9_-]{27})(?:[^A-Za-z0-9_-]|$)'''
keywords = ["dckr_pat_"]

[[rules]]
id = "npm-token"
description = "npm access token"
regex = '''\b(npm_[A-Za-z0-9]{36})\b'''
keywords = ["npm_"]

[[rules]]
id = "pypi-token"
description = "PyPI upload token"
regex = '''\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})'''
keywords = ["pypi-ageichlwas5vcmc"]

[[rules]]
id = "slack-token"
description = "Slack bot, user, app or config token"
regex = '''\b(xox[abposr]-(?:[0-9]{10,13}-){1,2}[A-Za-z0-9]{24,34})\b'''
keywords = ["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"]

[[rules]]
id = "slack-webhook"
description = "Slack incoming webhook URL"
regex = '''(https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24})'''
keywords = ["hooks.slack.com"]

[[rules]]
id = "discord-webhook"
description = "Discord webhook URL"
regex = '''(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68})'''
keywords = ["discord"]

[[rules]]
id = "teams-webhook"
description = "Microsoft Teams incoming webhook URL"
regex = '''(https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-f0-9-]{36}@[a-f0-9-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-f0-9-]{36})'''
keywords = ["webhook.office.com"]

[[rules]]
id = "telegram-bot-token"
description = "Telegram bot token"
regex = '''\b([0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?:[^A-Za-z0-9_-]|$)'''
keywords = [":aa"]

[[rules]]
id = "private-key"
description = "Private key in a PEM block"
regex = '''(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{32,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)'''
keywords = ["private key"]

[[rules]]
id = "jwt"
description = "JSON Web Token"
regex = '''\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})'''
keywords = ["eyj"]

[[rules]]
id = "stripe-secret-key"
description = "Stripe secret or restricted key"
regex = '''\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,99})\b'''
keywords = ["sk_live_", "sk_test_", "rk_live_", "rk_test_"]

[[rules]]
id = "google-api-key"
description = "Google API key"
regex = '''\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)'''
keywords = ["aiza"]

[[rules]]
id = "gcp-service-account-key-id"
description = "GCP service account key file (private_key_id)"
regex = '''"private_key_id"\s*:\s*"([a-f0-9]{40})"'''
keywords = ["private_key_id"]

[[rules]]
id = "azure-storage-key"
description = "Azure storage account key in a connection string"
regex = '''(?i)AccountKey=([A-Za-z0-9+/]{86}==)'''
keywords = ["accountkey="]

[[rules]]
id = "sendgrid-api-key"
description = "SendGrid API key"
regex = '''\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)'''
keywords = ["sg."]

[[rules]]
id = "mailgun-api-key"
description = "Mailgun private API key"
regex = '''\b(key-[0-9a-f]{32})\b'''
keywords = ["key-"]

[[rules]]
id = "shopify-token"
description = "Shopify access, custom app, private app or shared secret"
regex = '''\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b'''
keywords = ["shpat_", "shpca_", "shppa_", "shpss_"]

[[rules]]
id = "heroku-api-key"
description = "Heroku API key in an assignment"
regex = '''(?i)heroku[a-z0-9_ .,-]{0,25}(?:=|:|:=|=>)\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b'''
keywords = ["heroku"]

[[rules]]
id = "url-credentials"
description = "Password in a URL's user information"
regex = '''\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@"'<>]{1,64}:([^\s:/@"'<>]{6,64})@[A-Za-z0-9.-]+'''
keywords = ["://"]
entropy = 2.5
[rules.allowlist]
stopwords = ["password", "passwd", "changeme", "example", "secret", "xxxxxx"]

[[rules]]
id = "generic-secret-assignment"
description = "High-entropy value assigned to a secret-looking name"
regex = '''(?i)\b(?:api[_-]?key|secret|token|passw(?:or)?d|access[_-]?key|client[_-]?secret|auth[_-]?key)[a-z0-9_.-]{0,20}["']?\s*(?:=|:|:=|=>)\s*["']([A-Za-z0-9+/_.=-]{20,64})["']'''
keywords = ["key", "secret", "token", "passw"]
entropy = 3.8
[rules.allowlist]
stopwords = ["example", "changeme", "placeholder", "sample", "dummy", "xxxxxx", "abcdef"]
regexes = ['''^[a-z]+(?:[._-][a-z]+)*$''', '''^[A-Z_]+$''']
`;

let cached: RuleSet | undefined;

/**
 * The built-in rule set (parsed once).
 *
 * @returns The rule set, origin `built-in`.
 *
 * @example
 * ```ts
 * import { defaultRuleSet } from "./default_rules.ts";
 * console.assert(defaultRuleSet().rules.length >= 25);
 * ```
 */
export function defaultRuleSet(): RuleSet {
  cached ??= parseRulesToml("built-in", DEFAULT_RULES_TOML);
  return cached;
}
