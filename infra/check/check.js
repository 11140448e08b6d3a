#!/usr/bin/env node
// Checks infra/**/*.bicep and *.bicepparam without the Bicep CLI (which cannot be
// installed on our machines): a syntax check with the tree-sitter Bicep grammar, plus
// cheap structural checks the compiler or reviewers would otherwise catch late.
//
//   node check.js [--root <infra dir>] [--settings <file>]
//
// Exit 0 when clean, 1 when any problem is found (each printed as file:line:col: msg),
// 2 on a usage or internal error.
//
// Known grammar gap: tree-sitter-bicep 1.1.0 does not know the .bicepparam assignment
// form `param name = value`. For .bicepparam files each leading `param` keyword is
// rewritten to `var  ` (same length, so positions are unchanged) before parsing; the
// value expressions are then checked with the ordinary Bicep expression grammar.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const Parser = require('tree-sitter');
const Bicep = require('tree-sitter-bicep');

// ------------------------------------------------------------------ configuration

// Microsoft built-in role definition ids (same in every tenant). modules/roles.bicep must
// use exactly these names and ids; any other GUID literal in infra/ is an error.
const BUILT_IN_ROLES = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b', // Storage Blob Data Owner
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88', // Storage Queue Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', // Storage Table Data Contributor
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', // Azure Service Bus Data Sender
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0', // Azure Service Bus Data Receiver
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419', // Azure Service Bus Data Owner
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6', // Key Vault Secrets User
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', // Key Vault Secrets Officer
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb', // Monitoring Metrics Publisher
};
const ROLES_FILE = path.join('modules', 'roles.bicep');
const ROLES_VAR = 'builtInRoles';

// The one object in main.bicep that holds every app setting.
const MAIN_FILE = 'main.bicep';
const APP_SETTINGS_VAR = 'appSettings';
// Settings that must never be set on Flex Consumption (runtime comes from functionAppConfig).
const FLEX_FORBIDDEN_SETTINGS = [
  'FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTSHARE', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', 'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD', 'WEBSITE_TIME_ZONE', 'TZ', 'AzureWebJobsStorage',
];

// A parameter whose name looks like one of these must be @secure().
const SECRET_NAME = /(secret|password|passwd|pwd|token|webhook|clientstate|connectionstring|sas|apikey|accesskey|credential)/i;
// ...unless the name says it is an identifier, not a value.
const NOT_SECRET_NAME = /(PrincipalIds?|Names?|ResourceIds?|Routes)$/;
// A reviewed exception: this comment on the line above the declaration.
const NOT_SECRET_MARK = 'infra-check: not-secret';
// Literal text that is a credential wherever it appears.
const SECRET_LITERALS = [
  [/https:\/\/[^\s'"]*\.(webhook\.office\.com|logic\.azure\.com|environment\.api\.powerplatform\.com)[^\s'"]*/i, 'a Teams/Workflows webhook URL'],
  [/AccountKey=[A-Za-z0-9+/=]{20,}/, 'a storage account key'],
  [/SharedAccessKey=[A-Za-z0-9+/=]{20,}/, 'a Service Bus / Event Hubs SAS key'],
  [/[?&]sig=[A-Za-z0-9%+/=]{20,}/, 'a SAS signature'],
  [/InstrumentationKey=[0-9a-f-]{36}/i, 'an Application Insights key'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
];

const API_VERSION = /^\d{4}-\d{2}-\d{2}$/; // GA only; preview versions need a deliberate exception
const AVM_REF = /^br\/public:avm\/[a-z0-9\-/]+:\d+\.\d+\.\d+$/;
const GUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;
const ROUTE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/; // as shared/teams routeName

// ------------------------------------------------------------------ helpers

const problems = [];
function report(file, node, msg) {
  const pos = node && node.startPosition ? node.startPosition : { row: 0, column: 0 };
  problems.push(`${file}:${pos.row + 1}:${pos.column + 1}: ${msg}`);
}

// Visit every node of `node`'s subtree whose type is in `types` (a Set), or every node
// when types is null. Uses a TreeCursor: materialising each node through the Node API
// is slow in the node binding, so only the wanted ones are.
function walk(node, fn, types = null) {
  const cursor = node.walk();
  for (;;) {
    if (types === null || types.has(cursor.nodeType)) fn(cursor.currentNode);
    if (cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return;
    }
  }
}

// Identifier uses per name for a whole file, in one cursor pass: an identifier counts
// unless it is a declaration's own name or an object property key.
const DECLARATIONS = new Set([
  'parameter_declaration', 'variable_declaration', 'output_declaration', 'resource_declaration',
  'module_declaration', 'type_declaration', 'user_defined_function',
]);
function identifierUses(tree) {
  const uses = new Map();
  const cursor = tree.walk();
  const stack = []; // { type, named } of ancestors; named = named children seen so far
  for (;;) {
    const type = cursor.nodeType;
    const parent = stack[stack.length - 1];
    const index = parent && cursor.nodeIsNamed ? parent.named++ : -1;
    if (type === 'identifier' && parent) {
      const isDeclName = DECLARATIONS.has(parent.type) && index === 0;
      const isKey = parent.type === 'object_property' && index === 0;
      if (!isDeclName && !isKey) uses.set(cursor.nodeText, (uses.get(cursor.nodeText) || 0) + 1);
    }
    if (cursor.gotoFirstChild()) {
      stack.push({ type, named: 0 });
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return uses;
      stack.pop();
    }
  }
}

function findFiles(dir, out = []) {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    if (ent.name === 'node_modules' || ent.name.startsWith('.')) continue;
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) {
      if (path.resolve(p) === path.resolve(__dirname)) continue; // our own test fixtures
      findFiles(p, out);
    } else if (/\.(bicep|bicepparam)$/.test(ent.name)) {
      out.push(p);
    }
  }
  return out.sort();
}

function stringValue(node) {
  // Text of a plain (non-interpolated) string node, else null.
  if (!node || node.type !== 'string') return null;
  if (node.namedChildren.some((c) => c.type !== 'string_content' && c.type !== 'escape_sequence')) return null;
  return node.text.replace(/^'''|'''$/g, '').replace(/^'|'$/g, '');
}

function looksSecret(name) {
  return SECRET_NAME.test(name.replace(/[_-]/g, '')) && !NOT_SECRET_NAME.test(name);
}

// True when the reviewed-exception comment is on the declaration's line or the line above.
function markedNotSecret(f, node) {
  const start = (node.previousNamedSibling && node.previousNamedSibling.type === 'decorators' ? node.previousNamedSibling : node).startPosition.row;
  const lines = f.src.split('\n');
  return [lines[start - 1] || '', lines[node.startPosition.row] || ''].some((l) => l.includes(NOT_SECRET_MARK));
}

function declName(node) {
  const id = node.namedChildren.find((c) => c.type === 'identifier');
  return id ? id.text : null;
}

function decoratorsOf(node) {
  const prev = node.previousNamedSibling;
  if (!prev || prev.type !== 'decorators') return [];
  return prev.namedChildren.map((d) => d.text.replace(/^@/, '').replace(/\(.*$/s, ''));
}

function objectKeys(objNode) {
  const keys = new Map();
  for (const prop of objNode.namedChildren) {
    if (prop.type !== 'object_property') continue;
    const k = prop.namedChildren[0];
    const name = k.type === 'string' ? stringValue(k) : k.text;
    if (name != null) keys.set(name, prop);
  }
  return keys;
}

function topLevel(root, type) {
  return root.namedChildren.filter((n) => n.type === type);
}

// ------------------------------------------------------------------ parse

function parseAll(root) {
  const parser = new Parser();
  parser.setLanguage(Bicep);
  const files = findFiles(root);
  const parsed = new Map();
  for (const abs of files) {
    const rel = path.relative(root, abs);
    let src = fs.readFileSync(abs, 'utf8');
    const isParam = abs.endsWith('.bicepparam');
    if (isParam) src = src.replace(/^(\s*)param(\s+[A-Za-z_]\w*\s*=)/gm, '$1var  $2');
    // Callback input: the node binding's string input is limited in size.
    const tree = parser.parse((index) => (index < src.length ? src.slice(index, index + 8192) : null));
    parsed.set(rel, { rel, abs, src, tree, isParam });
  }
  return parsed;
}

// ------------------------------------------------------------------ checks

function checkSyntax(f) {
  if (!f.tree.rootNode.hasError) return true;
  let n = 0;
  walk(f.tree.rootNode, (node) => {
    if (n >= 20) return;
    if (node.type === 'ERROR') {
      n++;
      const snippet = node.text.split('\n')[0].slice(0, 60);
      report(f.rel, node, `syntax error near ${JSON.stringify(snippet)}`);
    } else if (node.isMissing) {
      n++;
      report(f.rel, node, `syntax error: missing ${node.type}`);
    }
  });
  return n === 0;
}

function checkDeclarations(f) {
  const root = f.tree.rootNode;
  const uses = identifierUses(f.tree);
  for (const p of topLevel(root, 'parameter_declaration')) {
    const name = declName(p);
    if (!uses.get(name)) report(f.rel, p, `param '${name}' is declared but never used`);
    const decorators = decoratorsOf(p);
    if (looksSecret(name) && !decorators.includes('secure') && !markedNotSecret(f, p)) {
      report(f.rel, p, `param '${name}' looks like a secret but is not @secure()`);
    }
    const type = p.namedChildren.find((c) => c.type === 'type');
    const dflt = p.namedChildren[p.namedChildren.length - 1];
    if (decorators.includes('secure') && type && dflt !== type) {
      const lit = stringValue(dflt);
      if (lit) report(f.rel, dflt, `@secure() param '${name}' has a literal default: pass it at deployment instead`);
    }
  }
  for (const v of topLevel(root, 'variable_declaration')) {
    if (f.isParam) continue;
    const name = declName(v);
    if (decoratorsOf(v).includes('export')) continue;
    if (!uses.get(name)) report(f.rel, v, `var '${name}' is declared but never used`);
  }
  for (const o of topLevel(root, 'output_declaration')) {
    const name = declName(o);
    if (looksSecret(name) && !decoratorsOf(o).includes('secure') && !markedNotSecret(f, o)) {
      report(f.rel, o, `output '${name}' looks like a secret: outputs are stored in plain text in the deployment history`);
    }
  }
}

function paramsOf(f) {
  // name -> { required, node }
  const out = new Map();
  for (const p of topLevel(f.tree.rootNode, 'parameter_declaration')) {
    const kids = p.namedChildren;
    const hasDefault = kids.length >= 3;
    out.set(declName(p), { required: !hasDefault, node: p });
  }
  return out;
}

function checkVersionsAndModules(f, parsed, inventory) {
  walk(f.tree.rootNode, (node) => {
    if (node.type === 'resource_declaration') {
      const typeStr = stringValue(node.namedChildren[1]);
      if (typeStr == null) return;
      const at = typeStr.lastIndexOf('@');
      const type = at > 0 ? typeStr.slice(0, at) : typeStr;
      const version = at > 0 ? typeStr.slice(at + 1) : '';
      if (!API_VERSION.test(version)) {
        report(f.rel, node, `resource type '${typeStr}' must pin a GA API version (yyyy-mm-dd)`);
      }
      // Group child types with their root (storageAccounts/blobServices/containers ->
      // storageAccounts): a parent and its children should use one API version.
      const root = type.split('/').slice(0, 2).join('/');
      if (!inventory.apis.has(root)) inventory.apis.set(root, new Map());
      const seen = inventory.apis.get(root);
      if (!seen.has(version)) seen.set(version, `${f.rel}:${node.startPosition.row + 1}`);
    }
    if (node.type === 'module_declaration') {
      const ref = stringValue(node.namedChildren[1]);
      if (ref == null) return;
      if (ref.startsWith('br/') || ref.startsWith('br:') || ref.startsWith('ts/') || ref.startsWith('ts:')) {
        if (!AVM_REF.test(ref)) report(f.rel, node, `module '${ref}' must be br/public:avm/...:<major.minor.patch> (no 'latest', no floating tags)`);
        inventory.modules.add(ref);
        return;
      }
      // Local module: params passed must be declared there, required ones must be passed.
      const target = path.normalize(path.join(path.dirname(f.rel), ref));
      const tf = parsed.get(target);
      if (!tf) {
        report(f.rel, node, `module file '${ref}' not found`);
        return;
      }
      const body = node.namedChildren.find((c) => c.type === 'object');
      const paramsProp = body ? objectKeys(body).get('params') : null;
      const passedObj = paramsProp ? paramsProp.namedChildren[1] : null;
      const passed = passedObj && passedObj.type === 'object' ? objectKeys(passedObj) : new Map();
      const declared = paramsOf(tf);
      for (const [name, prop] of passed) {
        if (!declared.has(name)) report(f.rel, prop, `module '${ref}' has no param '${name}'`);
      }
      for (const [name, d] of declared) {
        if (d.required && !passed.has(name)) report(f.rel, node, `module '${ref}' requires param '${name}'`);
      }
    }
  }, new Set(['resource_declaration', 'module_declaration']));
}

function checkUsing(f, parsed) {
  const using = topLevel(f.tree.rootNode, 'using_statement')[0];
  if (!using) {
    report(f.rel, f.tree.rootNode, 'a .bicepparam file needs a using statement');
    return;
  }
  const ref = stringValue(using.namedChildren[0]);
  const target = parsed.get(path.normalize(path.join(path.dirname(f.rel), ref)));
  if (!target) {
    report(f.rel, using, `using target '${ref}' not found`);
    return;
  }
  const declared = paramsOf(target);
  const assigned = new Map(topLevel(f.tree.rootNode, 'variable_declaration').map((v) => [declName(v), v]));
  for (const [name, node] of assigned) {
    if (!declared.has(name)) report(f.rel, node, `'${ref}' has no param '${name}'`);
    const value = node.namedChildren[node.namedChildren.length - 1];
    // Secure params must come from the environment (or stay empty), never a literal.
    const decl = declared.get(name);
    if (decl && decoratorsOf(decl.node).includes('secure')) {
      walk(value, (n) => {
        const s = stringValue(n);
        if (s && s !== '' && s !== '{}' && !(n.parent && n.parent.type === 'arguments' && n.parent.namedChildren[0].id === n.id)) {
          report(f.rel, n, `@secure() param '${name}' is given a literal value; read it from the environment`);
        }
      });
    }
    if (name === 'teamsRoutes' && value.type === 'array') {
      for (const el of value.namedChildren) {
        const s = stringValue(el);
        if (s != null && !ROUTE_NAME.test(s)) report(f.rel, el, `Teams route '${s}' must be lower-case kebab (a-z, 0-9, single hyphens)`);
      }
    }
  }
  for (const [name, d] of declared) {
    if (d.required && !assigned.has(name)) report(f.rel, using, `required param '${name}' of '${ref}' is not set`);
  }
}

function checkSecretLiterals(f) {
  const lines = f.src.split('\n');
  lines.forEach((line, i) => {
    for (const [re, what] of SECRET_LITERALS) {
      const m = re.exec(line);
      if (m) problems.push(`${f.rel}:${i + 1}:${m.index + 1}: contains ${what}; secrets belong in Key Vault, not in infra files`);
    }
  });
}

function checkGuids(f) {
  const isRoles = f.rel === ROLES_FILE;
  const known = new Set(Object.values(BUILT_IN_ROLES));
  walk(f.tree.rootNode, (node) => {
    if (node.type !== 'string') return;
    const s = stringValue(node);
    if (s == null || !GUID.test(s)) return;
    if (!isRoles) {
      report(f.rel, node, `GUID literal '${s}': role ids belong in ${ROLES_FILE} (import { ${ROLES_VAR} })`);
    } else if (!known.has(s.toLowerCase())) {
      report(f.rel, node, `'${s}' is not a built-in role id this project knows (see BUILT_IN_ROLES in infra/check/check.js)`);
    }
  }, new Set(['string']));
  if (!isRoles) return;
  const v = topLevel(f.tree.rootNode, 'variable_declaration').find((d) => declName(d) === ROLES_VAR);
  const obj = v && v.namedChildren.find((c) => c.type === 'object');
  if (!obj) {
    report(f.rel, f.tree.rootNode, `expected 'var ${ROLES_VAR} = { ... }'`);
    return;
  }
  for (const [name, prop] of objectKeys(obj)) {
    const id = stringValue(prop.namedChildren[1]);
    if (!(name in BUILT_IN_ROLES)) report(f.rel, prop, `unknown role name '${name}'`);
    else if (id !== BUILT_IN_ROLES[name]) report(f.rel, prop, `role '${name}' must be ${BUILT_IN_ROLES[name]}, not ${id}`);
  }
}

function checkAppSettings(parsed, settingsFile) {
  const f = parsed.get(MAIN_FILE);
  if (!f) {
    problems.push(`${MAIN_FILE}:1:1: missing`);
    return;
  }
  const v = topLevel(f.tree.rootNode, 'variable_declaration').find((d) => declName(d) === APP_SETTINGS_VAR);
  if (!v) {
    report(f.rel, f.tree.rootNode, `expected 'var ${APP_SETTINGS_VAR} = ...' holding every app setting`);
    return;
  }
  // Literal keys of every object in the appSettings expression (the union() arguments).
  const keys = new Map();
  walk(v, (node) => {
    if (node.type === 'object') for (const [k, prop] of objectKeys(node)) keys.set(k, prop);
  }, new Set(['object']));
  const dynamicPrefixes = [];
  // Keys built by toObject(..., x => 'PREFIX_${...}') in other vars referenced by appSettings.
  for (const d of topLevel(f.tree.rootNode, 'variable_declaration')) {
    if (!new RegExp(`\\b${declName(d)}\\b`).test(v.text)) continue;
    walk(d, (node) => {
      if (node.type === 'string' && /^'[A-Z][A-Z0-9_]*_\$\{/.test(node.text)) dynamicPrefixes.push(node.text.slice(1, node.text.indexOf('${')));
    }, new Set(['string']));
  }
  const required = fs.readFileSync(settingsFile, 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  for (const name of required) {
    if (name.endsWith('*')) {
      const prefix = name.slice(0, -1);
      if (!dynamicPrefixes.includes(prefix) && ![...keys.keys()].some((k) => k.startsWith(prefix))) {
        report(f.rel, v, `app setting family '${name}' (read by the Go code) is not produced by '${APP_SETTINGS_VAR}'`);
      }
    } else if (!keys.has(name)) {
      report(f.rel, v, `app setting '${name}' (read by the Go code, listed in ${path.basename(settingsFile)}) is missing from '${APP_SETTINGS_VAR}'`);
    }
  }
  for (const name of FLEX_FORBIDDEN_SETTINGS) {
    if (keys.has(name)) report(f.rel, keys.get(name), `'${name}' must not be set on Flex Consumption`);
  }
  for (const [k, prop] of keys) {
    if (looksSecret(k)) {
      const val = prop.namedChildren[1];
      const ok = val && (/kvRef\(|@Microsoft\.KeyVault\(/.test(val.text) || /^'managedidentity'$/.test(val.text) || markedNotSecret(f, prop));
      if (!ok) report(f.rel, prop, `app setting '${k}' looks like a secret: make it a Key Vault reference`);
    }
  }
}

function checkApiConsistency(inventory) {
  for (const [type, versions] of inventory.apis) {
    if (versions.size > 1) {
      const where = [...versions].map(([ver, at]) => `${ver} (${at})`).join(', ');
      problems.push(`${[...versions.values()][0]}:1: resource type '${type}' (with its child types) uses several API versions: ${where}; pick one and record it in main.bicep`);
    }
  }
}

// ------------------------------------------------------------------ main

function main(argv) {
  let root = path.resolve(__dirname, '..');
  let settingsFile = path.join(__dirname, 'app-settings.txt');
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') root = path.resolve(argv[++i]);
    else if (argv[i] === '--settings') settingsFile = path.resolve(argv[++i]);
    else if (argv[i] === '--quiet') quiet = true;
    else {
      console.error(`usage: check.js [--root <infra dir>] [--settings <file>] [--quiet]`);
      return 2;
    }
  }
  const parsed = parseAll(root);
  if (parsed.size === 0) {
    console.error(`infra-check: no .bicep files under ${root}`);
    return 1;
  }
  const inventory = { apis: new Map(), modules: new Set() };
  const syntaxOk = new Set();
  for (const f of parsed.values()) if (checkSyntax(f)) syntaxOk.add(f.rel);
  for (const f of parsed.values()) {
    checkSecretLiterals(f);
    if (!syntaxOk.has(f.rel)) continue; // structure of a broken tree is noise
    checkDeclarations(f);
    checkGuids(f);
    if (f.isParam) checkUsing(f, parsed);
    else checkVersionsAndModules(f, parsed, inventory);
  }
  if (syntaxOk.has(MAIN_FILE)) checkAppSettings(parsed, settingsFile);
  checkApiConsistency(inventory);

  const prefix = path.relative(process.cwd(), root) || '.';
  for (const p of problems) console.log(path.join(prefix, p));
  if (!quiet) {
    console.log(`infra-check: ${parsed.size} files parsed (${[...parsed.keys()].join(', ')})`);
    const apis = [...inventory.apis].map(([t, v]) => `${t}@${[...v.keys()].join('|')}`).sort();
    console.log(`infra-check: API versions: ${apis.join(', ')}`);
    console.log(`infra-check: registry modules: ${[...inventory.modules].sort().join(', ') || 'none'}`);
  }
  if (problems.length) {
    console.log(`infra-check: FAILED, ${problems.length} problem(s)`);
    return 1;
  }
  console.log('infra-check: OK');
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`infra-check: internal error: ${err.stack || err}`);
    process.exitCode = 2;
  }
}

module.exports = { main };
