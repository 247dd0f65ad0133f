// Runs terraform/backup.asl.json (or restore / fleet) locally with aws-local-stepfunctions.
//
// Each Task state's Lambda ARN placeholder (`${create_snapshot_arn}`) is rendered as a local ARN, and the Task is
// run by invoking the Rust handler through cargo-lambda's runtime emulator (`cargo lambda watch`), at
//   POST <lambda-endpoint>/2015-03-31/functions/<function-name>/invocations
// A handler error (HTTP 500 with {errorType, errorMessage}) is rethrown with `errorType` as the error name, so the
// definition's Retry/Catch match it exactly as in AWS; the Cause is the JSON Lambda would give.
//
// Nested executions: a `${<key>_state_machine_arn}` placeholder is the local ARN of state machine <key> (`backup`
// `restore` and `fleet` are this project's; `--machine <key>=<asl file>` adds or replaces one), and a Task whose Resource
// is `arn:aws:states:::states:startExecution.sync:2` (or `.sync`) runs that machine's definition here, as a child
// execution with the Task's `Input` (and `Name`), returning what Step Functions returns (ExecutionArn, Status,
// Input, Output — parsed JSON for `:2`, strings for `.sync` — StartDate, StopDate). A child that fails fails the
// Task with `States.TaskFailed` and, as Cause, the child's description as JSON (its Error and Cause inside).
//
// Distributed Map (a Map whose ItemProcessor has ProcessorConfig.Mode DISTRIBUTED) runs here too, as Step Functions
// runs it: ItemReader (s3:getObject, ReaderConfig.InputType JSON) reads the item array from S3 at
// AWS_ENDPOINT_URL_S3 (moto); each item runs the ItemProcessor as its own child workflow execution
// (`…:execution:<machine>/<Label>:<uuid>`), at most MaxConcurrency(Path) at once; ToleratedFailurePercentage /
// ToleratedFailureCount decide whether failed child workflows fail the Map (States.ExceedToleratedFailureThreshold);
// ResultWriter (s3:putObject) writes `<Prefix>/<map run id>/SUCCEEDED_0.json`, `FAILED_0.json` (records with
// ExecutionArn, Input and Output as JSON strings, Status, Error, Cause, …) and `manifest.json`, and the Map's result is
// {MapRunArn, ResultWriterDetails: {Bucket, Key}}. Without a ResultWriter the result is the array of outputs.
// Parameters of ItemReader and ResultWriter take plain values or `.$` paths of the form `$.a.b` / `$$.Execution.Name`.
// Not supported (the runner stops with an error): other readers (CSV, S3 listing), ItemSelector, ItemBatcher.
//
// Usage:
//   node run.mjs --lambda-endpoint http://127.0.0.1:9000 --input '{"replicationGroupId":"orders"}' \
//     [--name EXECUTION_NAME] [--definition ../../../terraform/backup.asl.json] [--wait-ms N] [--retry-ms N]
//     [--result-file out.json] [--quiet] [--machine KEY=ASL_FILE ...] [--machine-name NAME]
// (--machine-name: the state machine's name in the execution ARN; default elasticache-backup)
// Prints each state with its start offset and duration, then the final output. Exit code 0 = SUCCEEDED,
// 1 = FAILED (error and cause printed), 2 = usage or runner error.
//
// As a module (server.mjs uses it): `runExecution(opts)` resolves to the result document the CLI writes. With
// `opts.observe`, each execution it runs (this one, and every child a startExecution.sync Task starts) is announced
// as it starts — observe({executionArn, name, machineName, stateMachineArn, input, startDate, stop}) — and may return
// a callback that then receives that execution's events as they happen: aws-local-stepfunctions' state events
// (StateEntered, StateExited, StateFailed, StateRetried, StateCaught, MapIteration*), TaskScheduled / TaskSubmitted /
// TaskSucceeded / TaskFailed around each Task's call (`kind` lambda, states or map), MapRunStarted, and one closing
// ExecutionSucceeded / ExecutionFailed / ExecutionAborted / ExecutionTimedOut. `stop(error, cause)` aborts the
// execution (and the children it is waiting for): it ends ABORTED with that error and cause, as StopExecution does.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';

const here = dirname(fileURLToPath(import.meta.url));
const REGION = process.env.AWS_REGION || 'us-east-1';
const ACCOUNT = '123456789012';

function parseArgs(argv) {
  const opts = {
    definition: resolve(here, '../../../terraform/backup.asl.json'),
    name: `local-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`,
    input: '{}',
    lambdaEndpoint: process.env.LAMBDA_ENDPOINT || 'http://127.0.0.1:9000',
    waitMs: undefined,
    retryMs: undefined,
    resultFile: undefined,
    quiet: false,
    machines: { ...MACHINES },
  };
  walkArgs(argv, (a, next) => {
    switch (a) {
      case '--definition': opts.definition = next(); return true;
      case '--name': opts.name = next(); return true;
      case '--input': opts.input = next(); return true;
      case '--input-file': opts.input = readFileSync(next(), 'utf8'); return true;
      case '--result-file': opts.resultFile = next(); return true;
      case '--quiet': opts.quiet = true; return true;
      case '--machine-name': opts.machineName = next(); return true;
      default: return sharedOption(opts, a, next);
    }
  });
  return opts;
}

/** Reads `argv`: `take(option, next)` takes one option (`next()` reads its value) and answers false for an option it
 * does not know. */
export function walkArgs(argv, take) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (!take(a, next)) throw new Error(`unknown option ${a}`);
  }
}

/** The options run.mjs and server.mjs share: --lambda-endpoint, --wait-ms, --retry-ms and --machine KEY=ASL_FILE
 * (the state machine `nameOf(KEY)` runs that definition). False for any other option. */
export function sharedOption(opts, option, next, nameOf = (key) => `elasticache-backup-${key}`) {
  switch (option) {
    case '--lambda-endpoint': opts.lambdaEndpoint = next(); return true;
    case '--wait-ms': opts.waitMs = Number(next()); return true;
    case '--retry-ms': opts.retryMs = Number(next()); return true;
    case '--machine': {
      const [key, file] = next().split('=');
      if (!key || !file) throw new Error('--machine needs KEY=ASL_FILE');
      opts.machines[key] = { name: nameOf(key), definition: resolve(file) };
      return true;
    }
    default: return false;
  }
}

/** This project's state machines: placeholder key → deployed name and definition. */
export const MACHINES = {
  backup: { name: 'elasticache-backup', definition: resolve(here, '../../../terraform/backup.asl.json') },
  restore: { name: 'elasticache-backup-restore', definition: resolve(here, '../../../terraform/restore.asl.json') },
  fleet: { name: 'elasticache-backup-fleet', definition: resolve(here, '../../../terraform/fleet.asl.json') },
};

const machineArn = (name) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;

/** `${backup_state_machine_arn}` → the local ARN of state machine `backup`; `${create_snapshot_arn}` → the local
 * ARN of function `create-snapshot`. */
export function render(text, machines = MACHINES) {
  return text
    .replace(/\$\{([a-z0-9_]+)_state_machine_arn\}/g, (whole, key) => {
      if (!machines[key]) throw new Error(`${whole}: no state machine "${key}" (use --machine ${key}=FILE)`);
      return machineArn(machines[key].name);
    })
    .replace(/\$\{([a-z0-9_]+)_arn\}/g, (_, v) =>
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${v.replace(/_/g, '-')}`);
}

const START_EXECUTION = /^arn:aws:states:::states:startExecution\.sync(:2)?$/;

/** Why an execution was stopped (StopExecution's error and cause, both optional): the abort reason `stop` gives. */
class StopRequest {
  constructor(error, cause) { this.error = error; this.cause = cause; }
}

/** Runs a child execution for a startExecution.sync Task; resolves to Step Functions' answer, or throws
 * States.TaskFailed. */
async function startExecutionSync(opts, resource, params, children, submitted) {
  const v2 = resource.endsWith(':2');
  const name = String(params.StateMachineArn ?? '').split(':').pop();
  const machine = Object.values(opts.machines).find((m) => m.name === name);
  if (!machine) {
    const err = new Error(`StateMachineDoesNotExist: ${params.StateMachineArn}`);
    err.name = 'StepFunctions.StateMachineDoesNotExistException';
    throw err;
  }
  if (!existsSync(machine.definition)) {
    // A state machine that is gone (deleted, or a role that may not start it): the start is refused, no child runs.
    const err = new Error(`StateMachineDoesNotExist: ${params.StateMachineArn}`);
    err.name = 'StepFunctions.StateMachineDoesNotExistException';
    throw err;
  }
  const input = typeof params.Input === 'string' ? params.Input : JSON.stringify(params.Input ?? {});
  const child = await runExecution({
    ...opts, definition: machine.definition, definitionObject: undefined, machineName: machine.name, input, quiet: true,
    name: params.Name ?? `${name}-${randomUUID()}`, resultFile: undefined, started: submitted,
  });
  children.push(child);
  const answer = {
    ExecutionArn: child.executionArn, StateMachineArn: machineArn(machine.name), Name: child.name,
    Status: child.status, StartDate: child.startDate, StopDate: child.stopDate,
    Input: v2 ? JSON.parse(input) : input,
  };
  if (child.status === 'SUCCEEDED') {
    answer.Output = v2 ? child.output : JSON.stringify(child.output);
    return answer;
  }
  const err = new Error(JSON.stringify({ ...answer, Error: child.error, Cause: child.cause }));
  err.name = 'States.TaskFailed';
  throw err;
}

const DISTRIBUTED_MAP = 'arn:aws:states:::local:distributedMap';

/** Replaces every Distributed Map state (nested ones too) by a Task this runner serves (`runDistributedMap`), keeping
 * its InputPath, ResultSelector, ResultPath, OutputPath, Retry, Catch and Next/End. */
function lowerDistributedMaps(states, lowered) {
  for (const [name, state] of Object.entries(states)) {
    const processor = state.ItemProcessor ?? state.Iterator;
    if (state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
      for (const unsupported of ['ItemSelector', 'Parameters', 'ItemBatcher', 'ItemsPath']) {
        if (state[unsupported] !== undefined) throw new Error(`${name}: ${unsupported} in a Distributed Map is not supported by run.mjs`);
      }
      const task = { Type: 'Task', Resource: DISTRIBUTED_MAP };
      for (const keep of ['Comment', 'InputPath', 'ResultSelector', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End']) {
        if (state[keep] !== undefined) task[keep] = state[keep];
      }
      lowered.set(name, { ...state, name });
      states[name] = task;
    } else if (processor) {
      lowerDistributedMaps(processor.States, lowered);
    }
    for (const branch of state.Branches ?? []) lowerDistributedMaps(branch.States, lowered);
  }
}

/** `$.a.b` of the state input or `$$.Execution.Name` of the context; plain values as they are. */
function resolveParameters(params, input, context) {
  const out = {};
  for (const [k, v] of Object.entries(params ?? {})) {
    if (!k.endsWith('.$')) { out[k] = v; continue; }
    const m = /^(\$\$?)((?:\.[A-Za-z0-9_]+)*)$/.exec(v);
    if (!m) throw new Error(`path ${v} is not supported by run.mjs (only $.a.b and $$.a.b)`);
    let value = m[1] === '$$' ? context : input;
    for (const part of m[2].split('.').slice(1)) value = value?.[part];
    if (value === undefined) {
      const err = new Error(`The JSONPath '${v}' specified for the field '${k}' could not be found in the input`);
      err.name = 'States.Runtime';
      throw err;
    }
    out[k.slice(0, -2)] = value;
  }
  return out;
}

let s3;
/** The S3 API at AWS_ENDPOINT_URL_S3 (the local stack's moto), path-style, with the environment's credentials or
 * moto's test ones. */
async function s3Client() {
  if (s3) return s3;
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  if (!endpoint) throw new Error('a Distributed Map needs AWS_ENDPOINT_URL_S3 (the local S3)');
  const { S3Client, GetObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: REGION, endpoint, forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'test',
    },
  });
  s3 = {
    get: async (Bucket, Key) => (await client.send(new GetObjectCommand({ Bucket, Key }))).Body.transformToString(),
    put: (Bucket, Key, Body) => client.send(new PutObjectCommand({ Bucket, Key, Body, ContentType: 'application/json' })),
  };
  return s3;
}

async function s3Get(bucket, key) {
  try {
    return await (await s3Client()).get(bucket, key);
  } catch (e) {
    const err = new Error(`GetObject s3://${bucket}/${key}: ${e.name}: ${e.message}`);
    err.name = 'States.ItemReaderFailed';
    throw err;
  }
}

async function s3Put(bucket, key, body) {
  try {
    await (await s3Client()).put(bucket, key, body);
  } catch (e) {
    const err = new Error(`PutObject s3://${bucket}/${key}: ${e.name}: ${e.message}`);
    err.name = 'States.ResultWriterFailed';
    throw err;
  }
}

/** One Distributed Map: items from S3, a child workflow execution each, results to S3 (see the header). */
async function runDistributedMap(opts, map, input, context, children, mapRuns, report) {
  const reader = map.ItemReader;
  if (reader?.Resource !== 'arn:aws:states:::s3:getObject' || reader?.ReaderConfig?.InputType !== 'JSON') {
    throw new Error(`${map.name}: run.mjs reads only a JSON array with s3:getObject (ItemReader)`);
  }
  const where = resolveParameters(reader.Parameters, input, context);
  let items;
  try { items = JSON.parse(await s3Get(where.Bucket, where.Key)); } catch (e) {
    if (e.name === 'States.ItemReaderFailed') throw e;
    const err = new Error(`s3://${where.Bucket}/${where.Key} is not JSON: ${e.message}`);
    err.name = 'States.ItemReaderFailed';
    throw err;
  }
  if (!Array.isArray(items)) {
    const err = new Error(`s3://${where.Bucket}/${where.Key} is not a JSON array`);
    err.name = 'States.ItemReaderFailed';
    throw err;
  }
  let concurrency = map.MaxConcurrency ?? 0;
  if (map.MaxConcurrencyPath) concurrency = resolveParameters({ 'n.$': map.MaxConcurrencyPath }, input, context).n;
  if (!Number.isInteger(concurrency) || concurrency < 0) throw new Error(`${map.name}: MaxConcurrency ${concurrency} is not a whole number`);
  const limit = concurrency === 0 ? items.length || 1 : concurrency;

  const machineName = opts.machineName ?? 'elasticache-backup';
  const label = map.Label ?? map.name;
  const mapRunId = randomUUID();
  const mapRunArn = `arn:aws:states:${REGION}:${ACCOUNT}:mapRun:${machineName}/${label}:${mapRunId}`;
  report({ type: 'MapRunStarted', timestamp: Date.now(), state: { name: map.name, type: 'Map' }, mapRunArn });
  const { ProcessorConfig, ...processor } = map.ItemProcessor ?? map.Iterator;
  const records = new Array(items.length);
  let next = 0;
  let inFlight = 0;
  let peak = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      inFlight++;
      peak = Math.max(peak, inFlight);
      const child = await runExecution({
        ...opts, definitionObject: processor, definition: undefined, machineName: `${machineName}/${label}`,
        input: JSON.stringify(items[i]), name: randomUUID(), quiet: true, resultFile: undefined,
      });
      inFlight--;
      children.push(...child.children);
      records[i] = {
        ExecutionArn: child.executionArn, Input: JSON.stringify(items[i]), InputDetails: { Included: true },
        Name: child.name, StartDate: child.startDate, StateMachineArn: machineArn(`${machineName}/${label}`),
        Status: child.status, StopDate: child.stopDate,
        ...(child.status === 'SUCCEEDED'
          ? { Output: JSON.stringify(child.output), OutputDetails: { Included: true } }
          : { Error: child.error, Cause: typeof child.cause === 'string' ? child.cause : JSON.stringify(child.cause ?? '') }),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, Math.max(items.length, 1)) }, worker));
  const failed = records.filter((r) => r.Status !== 'SUCCEEDED');
  mapRuns.push({ mapRunArn, state: map.name, items: items.length, failed: failed.length, maxConcurrency: concurrency, peak });

  const toleratedPercent = map.ToleratedFailurePercentage ?? 0;
  const toleratedCount = map.ToleratedFailureCount ?? 0;
  const exceeded = failed.length > 0
    && failed.length > toleratedCount
    && (failed.length * 100) / items.length > toleratedPercent;
  if (exceeded) {
    const err = new Error(`The specified tolerated failure threshold was exceeded: ${failed.length} of ${items.length} child workflow executions failed`);
    err.name = 'States.ExceedToleratedFailureThreshold';
    throw err;
  }
  if (!map.ResultWriter) return records.map((r) => (r.Output === undefined ? r : JSON.parse(r.Output)));
  const target = resolveParameters(map.ResultWriter.Parameters, input, context);
  const prefix = `${target.Prefix ? `${target.Prefix.replace(/\/$/, '')}/` : ''}${mapRunId}`;
  const files = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  for (const [status, list] of [['SUCCEEDED', records.filter((r) => r.Status === 'SUCCEEDED')], ['FAILED', failed]]) {
    if (list.length === 0) continue;
    const key = `${prefix}/${status}_0.json`;
    const body = JSON.stringify(list);
    await s3Put(target.Bucket, key, body);
    files[status].push({ Key: key, Size: Buffer.byteLength(body) });
  }
  const manifestKey = `${prefix}/manifest.json`;
  await s3Put(target.Bucket, manifestKey, JSON.stringify({ DestinationBucket: target.Bucket, MapRunArn: mapRunArn, ResultFiles: files }));
  return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: target.Bucket, Key: manifestKey } };
}

function functionName(arn) {
  return arn.split(':').pop();
}

/** Invokes one function through cargo lambda watch; throws errors named by the handler's errorType. */
async function invoke(endpoint, fn, payload) {
  let res;
  try {
    res = await fetch(`${endpoint}/2015-03-31/functions/${fn}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
  } catch (e) {
    const err = new Error(JSON.stringify({ errorType: 'Lambda.ServiceException', errorMessage: String(e.cause ?? e) }));
    err.name = 'Lambda.ServiceException';
    throw err;
  }
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = undefined; }
  const fnError = res.headers.get('x-amz-function-error');
  if (res.ok && !fnError) return body;
  const errorType = body?.errorType ?? 'Lambda.Unknown';
  const errorMessage = body?.errorMessage ?? text;
  const err = new Error(JSON.stringify({ errorType, errorMessage }));
  err.name = errorType;
  throw err;
}

/** The library's own execution events: the runner reports its own start (observe) and end instead. */
const EXECUTION_EVENTS = new Set(['ExecutionStarted', 'ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimeout']);

export async function runExecution(opts, log = console.log) {
  opts = { machines: MACHINES, ...opts };
  const definition = opts.definitionObject
    ? structuredClone(opts.definitionObject)
    : JSON.parse(render(readFileSync(opts.definition, 'utf8'), opts.machines));
  const distributed = new Map();
  lowerDistributedMaps(definition.States, distributed);
  const children = [];
  const mapRuns = [];
  let context;
  const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: false } });
  const startTime = new Date();
  const machineName = opts.machineName ?? 'elasticache-backup';
  const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machineName}:${opts.name}`;

  // Stopping: by `stop` (StopExecution), or because the parent that waits for this child was stopped.
  const controller = new AbortController();
  if (opts.signal?.aborted) controller.abort();
  else opts.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const announce = {
    executionArn, name: opts.name, machineName, stateMachineArn: machineArn(machineName), input: opts.input,
    startDate: startTime, stop: (error, cause) => controller.abort(new StopRequest(error, cause)),
  };
  const onEvent = opts.observe?.(announce);
  opts.started?.(announce);
  let ended = false;
  const report = (ev) => { if (onEvent && !ended) onEvent(ev); };
  // What this execution's Tasks and children run with: its own stop signal; `started` is the parent's alone.
  const inner = { ...opts, signal: controller.signal, started: undefined };

  /** A Task's call, reported as TaskScheduled then TaskSucceeded or TaskFailed (each attempt of a retried one). */
  const task = (name, state, kind, resource, call) => async (input) => {
    // The library reports StateEntered (or StateRetried) just before calling: let that reach `report` first.
    await new Promise((r) => setImmediate(r));
    const at = { name, type: 'Task' };
    report({ type: 'TaskScheduled', timestamp: Date.now(), state: at, kind, resource, input, timeoutSeconds: state.TimeoutSeconds });
    try {
      const output = await call(input);
      report({ type: 'TaskSucceeded', timestamp: Date.now(), state: at, kind, resource, output });
      return output;
    } catch (e) {
      report({ type: 'TaskFailed', timestamp: Date.now(), state: at, kind, resource, Error: e.name, Cause: e.message });
      throw e;
    }
  };
  const taskResourceLocalHandlers = {};
  const waitTimeOverrides = {};
  const retryIntervalOverrides = {};
  // Every state, those inside a Map's ItemProcessor (or Iterator) and Parallel branches too: the overrides are
  // keyed by state name.
  const allStates = (states) => Object.entries(states).flatMap(([name, state]) => [
    [name, state],
    ...[state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter(Boolean).flatMap((sub) => allStates(sub.States)),
  ]);
  for (const [name, state] of allStates(definition.States)) {
    if (state.Type === 'Task' && state.Resource === DISTRIBUTED_MAP) {
      const map = distributed.get(name);
      taskResourceLocalHandlers[name] = task(name, state, 'map', DISTRIBUTED_MAP,
        (input) => runDistributedMap(inner, map, input, context, children, mapRuns, report));
      if (opts.retryMs !== undefined) retryIntervalOverrides[name] = opts.retryMs;
    } else if (state.Type === 'Task' && START_EXECUTION.test(state.Resource)) {
      const submitted = (child) => report({
        type: 'TaskSubmitted', timestamp: Date.now(), state: { name, type: 'Task' }, kind: 'states', resource: state.Resource,
        output: { ExecutionArn: child.executionArn, StartDate: child.startDate.toISOString() },
      });
      taskResourceLocalHandlers[name] = task(name, state, 'states', state.Resource,
        (input) => startExecutionSync(inner, state.Resource, input, children, submitted));
      if (opts.retryMs !== undefined) retryIntervalOverrides[name] = opts.retryMs;
    } else if (state.Type === 'Task') {
      const fn = functionName(state.Resource);
      taskResourceLocalHandlers[name] = task(name, state, 'lambda', state.Resource, (input) => invoke(opts.lambdaEndpoint, fn, input));
      if (opts.retryMs !== undefined) retryIntervalOverrides[name] = opts.retryMs;
    }
    if (state.Type === 'Wait' && opts.waitMs !== undefined) waitTimeOverrides[name] = opts.waitMs;
  }
  context = {
    Execution: { Id: executionArn, Name: opts.name, StartTime: startTime.toISOString(), Input: JSON.parse(opts.input) },
    StateMachine: { Id: machineArn(machineName), Name: machineName },
  };
  const execution = machine.run(JSON.parse(opts.input), {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context,
  });
  if (controller.signal.aborted) execution.abort();
  else controller.signal.addEventListener('abort', () => execution.abort(), { once: true });

  const states = [];
  const entered = new Map();
  const t0 = startTime.getTime();
  const fmt = (ms) => `${(ms / 1000).toFixed(3).padStart(8)}s`;
  for await (const ev of execution.eventLogs) {
    if (!EXECUTION_EVENTS.has(ev.type)) {
      // A Distributed Map runs here as a Task (lowerDistributedMaps); its events name it a Map, as it is.
      const lowered = ev.state?.type === 'Task' && distributed.has(ev.state.name);
      report(lowered ? { ...ev, state: { ...ev.state, type: 'Map' } } : ev);
    }
    if (ev.type === 'StateEntered') {
      entered.set(ev.state.name, ev.timestamp);
    } else if (ev.type === 'StateExited' || ev.type === 'StateFailed') {
      const start = entered.get(ev.state.name) ?? ev.timestamp;
      const rec = { state: ev.state.name, type: ev.state.type, startedMs: start - t0, durationMs: ev.timestamp - start };
      if (ev.type === 'StateFailed') { rec.error = ev.Error; rec.cause = ev.Cause; }
      states.push(rec);
      if (!opts.quiet) {
        const extra = ev.type === 'StateFailed' ? `  ! ${ev.Error}` : '';
        log(`${fmt(rec.startedMs)}  ${rec.state.padEnd(22)} ${rec.type.padEnd(7)} ${String(rec.durationMs).padStart(7)} ms${extra}`);
      }
    } else if (ev.type === 'StateRetried') {
      states.push({ state: ev.state.name, type: 'Retry', startedMs: ev.timestamp - t0, attempt: ev.retry.attempt, errorEquals: ev.retry.retrier.ErrorEquals });
      if (!opts.quiet) log(`${fmt(ev.timestamp - t0)}  ${ev.state.name.padEnd(22)} retry #${ev.retry.attempt} (${ev.retry.retrier.ErrorEquals.join(', ')})`);
    } else if (ev.type === 'StateCaught') {
      if (!opts.quiet) log(`${fmt(ev.timestamp - t0)}  ${ev.state.name.padEnd(22)} caught → ${ev.catch.catcher.Next}`);
    }
  }

  let status = 'SUCCEEDED';
  let output = null;
  let error;
  let cause;
  try {
    output = await execution.result;
  } catch (e) {
    status = 'FAILED';
    error = e.name;
    cause = e.cause ?? e.message;
    if (e.name === 'ExecutionError' && e.cause) { error = e.cause.name; cause = e.cause.message; }
    if (e.name === 'ExecutionAbortedError') {
      const reason = controller.signal.reason;
      status = 'ABORTED';
      error = reason instanceof StopRequest ? reason.error : undefined;
      cause = reason instanceof StopRequest ? reason.cause : undefined;
    } else if (e.name === 'ExecutionTimeoutError') {
      status = 'TIMED_OUT';
      error = 'States.Timeout';
      cause = undefined;
    }
  }
  const stopDate = new Date();
  const closing = { SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', ABORTED: 'ExecutionAborted', TIMED_OUT: 'ExecutionTimedOut' };
  report({ type: closing[status], timestamp: stopDate.getTime(), status, output, error, cause });
  ended = true;
  return {
    name: opts.name, executionArn, status, error, cause, input: JSON.parse(opts.input), output, states,
    durationMs: stopDate.getTime() - t0,
    startDate: startTime.toISOString(), stopDate: stopDate.toISOString(), children, mapRuns,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`run.mjs: ${e.message}`);
    process.exit(2);
  }
  try {
    const result = await runExecution(opts);
    if (opts.resultFile) writeFileSync(opts.resultFile, JSON.stringify(result, null, 2));
    if (!opts.quiet) {
      console.log(`execution ${result.name}: ${result.status} in ${(result.durationMs / 1000).toFixed(1)} s`);
      if (result.status === 'FAILED') console.log(`error: ${result.error}\ncause: ${result.cause}`);
      else console.log(JSON.stringify(result.output, null, 2));
    }
    process.exit(result.status === 'SUCCEEDED' ? 0 : 1);
  } catch (e) {
    console.error(`run.mjs: ${e.stack ?? e}`);
    process.exit(2);
  }
}
