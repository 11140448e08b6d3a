// Self-tests for check.js: each case copies the real infra/ into a temp dir, breaks one
// thing, and asserts the checker fails with a file:line:col message. Run: node --test
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const INFRA = path.resolve(__dirname, '..');
const CHECK = path.join(__dirname, 'check.js');

function copyInfra() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'infra-check-'));
  const copy = (from, to) => {
    for (const ent of fs.readdirSync(from, { withFileTypes: true })) {
      if (['check', 'local', 'node_modules'].includes(ent.name)) continue;
      const a = path.join(from, ent.name);
      const b = path.join(to, ent.name);
      if (ent.isDirectory()) {
        fs.mkdirSync(b);
        copy(a, b);
      } else if (/\.(bicep|bicepparam)$/.test(ent.name)) {
        fs.copyFileSync(a, b);
      }
    }
  };
  copy(INFRA, dir);
  return dir;
}

function run(dir) {
  const r = spawnSync(process.execPath, [CHECK, '--root', dir, '--settings', path.join(__dirname, 'app-settings.txt'), '--quiet'], {
    encoding: 'utf8',
    cwd: dir,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

function edit(dir, file, fn) {
  const p = path.join(dir, file);
  const before = fs.readFileSync(p, 'utf8');
  const after = fn(before);
  assert.notEqual(after, before, `edit of ${file} changed nothing`);
  fs.writeFileSync(p, after);
}

function expectFailure(name, file, fn, pattern) {
  test(name, () => {
    const dir = copyInfra();
    try {
      edit(dir, file, fn);
      const { code, out } = run(dir);
      assert.equal(code, 1, out);
      assert.match(out, pattern);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the real infra passes', () => {
  const dir = copyInfra();
  try {
    const { code, out } = run(dir);
    assert.equal(code, 0, out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

expectFailure('syntax error is reported with file:line:col', 'modules/storage.bicep',
  (s) => s.replace("kind: 'StorageV2'", "kind: 'StorageV2\n  sku: {{"), /modules\/storage\.bicep:\d+:\d+: syntax error/);

expectFailure('syntax error in a .bicepparam file', 'main.bicepparam',
  (s) => s.replace('param logLevel = \'info\'', 'param logLevel = = \'info\''), /main\.bicepparam:\d+:\d+: syntax error/);

expectFailure('a setting the code reads is missing', 'main.bicep',
  (s) => s.replace(/^\s*GOVKIT_LOG_LEVEL: logLevel\n/m, ''), /app setting 'GOVKIT_LOG_LEVEL'.*missing/);

expectFailure('the Teams route family is missing', 'main.bicep',
  (s) => s.replace("route => 'TEAMS_ROUTE_${", "route => 'TEAMS_${"), /family 'TEAMS_ROUTE_\*'/);

expectFailure('FUNCTIONS_WORKER_RUNTIME is refused on Flex', 'main.bicep',
  (s) => s.replace('GOVKIT_LOG_LEVEL: logLevel', "GOVKIT_LOG_LEVEL: logLevel\n    FUNCTIONS_WORKER_RUNTIME: 'custom'"), /FUNCTIONS_WORKER_RUNTIME' must not be set/);

expectFailure('a wrong role GUID', 'modules/roles.bicep',
  (s) => s.replace('b7e6dc6d-f1e8-4753-8033-0f276bb0955b', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'), /not a built-in role id|must be b7e6dc6d/);

expectFailure('a role GUID outside roles.bicep', 'modules/storage.bicep',
  (s) => s.replace('builtInRoles.storageBlobDataOwner\n', "'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'\n"), /GUID literal/);

expectFailure('an unpinned registry module', 'main.bicep',
  (s) => s.replace('user-assigned-identity:0.4.2', 'user-assigned-identity:latest'), /must be br\/public:avm/);

expectFailure('an API version that is not a pinned GA date', 'modules/keyvault.bicep',
  (s) => s.replace("'Microsoft.KeyVault/vaults@2024-11-01' =", "'Microsoft.KeyVault/vaults@2025-01-01-preview' ="), /must pin a GA API version/);

expectFailure('two API versions for one resource type', 'modules/storage.bicep',
  (s) => s.replace("tableServices/tables@2024-01-01", "tableServices/tables@2023-05-01"), /uses several API versions/);

expectFailure('a secret-looking param without @secure()', 'main.bicep',
  (s) => s.replace('@secure()\n@description(\'Optional SharePoint', '@description(\'Optional SharePoint'), /sharePointClientState' looks like a secret/);

expectFailure('an unused param', 'modules/functionapp.bicep',
  (s) => s.replace('param planName string', 'param planName string\nparam spare string = \'\''), /param 'spare' is declared but never used/);

expectFailure('a webhook URL committed in the parameter file', 'main.bicepparam',
  (s) => s.replace("readEnvironmentVariable('GOVKIT_TEAMS_WEBHOOK_URLS_JSON', '{}')",
    "readEnvironmentVariable('GOVKIT_TEAMS_WEBHOOK_URLS_JSON', '{\"governance\":\"https://prod-01.uksouth.logic.azure.com/workflows/abc?sig=0123456789abcdef0123456789\"}')"),
  /Teams\/Workflows webhook URL/);

expectFailure('a module given a param it does not declare', 'main.bicep',
  (s) => s.replace('    grantDataOwnerForScaling: grantServiceBusDataOwner\n', '    grantDataOwnerForScaling: grantServiceBusDataOwner\n    maxDeliveries: 3\n'),
  /has no param 'maxDeliveries'/);

expectFailure('a module missing a required param', 'main.bicep',
  (s) => s.replace('    deploymentContainerName: deploymentContainerName\n', ''), /requires param 'deploymentContainerName'/);

expectFailure('a bad Teams route name', 'main.bicepparam',
  (s) => s.replace("  // 'ig-team'", "  'Contracts_Team'"), /Teams route 'Contracts_Team'/);

expectFailure('a secret-looking app setting that is not a Key Vault reference', 'main.bicep',
  (s) => s.replace('GOVKIT_LOG_LEVEL: logLevel', "GOVKIT_LOG_LEVEL: logLevel\n    GOVKIT_PBI_CLIENT_SECRET: 'abc'"), /GOVKIT_PBI_CLIENT_SECRET' looks like a secret/);

expectFailure('a literal value for a @secure() param in the parameter file', 'main.bicepparam',
  (s) => s.replace("readEnvironmentVariable('GOVKIT_SHAREPOINT_CLIENT_STATE', '')", "'not-so-secret'"), /sharePointClientState' is given a literal value/);
