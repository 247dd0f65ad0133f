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
// Usage:
//   node run.mjs --lambda-endpoint http://127.0.0.1:9000 --input '{"replicationGroupId":"orders"}' \
//     [--name EXECUTION_NAME] [--definition ../../terraform/backup.asl.json] [--wait-ms N] [--retry-ms N]
//     [--result-file out.json] [--quiet] [--machine KEY=ASL_FILE ...] [--machine-name NAME]
// (--machine-name: the state machine's name in the execution ARN; default elasticache-backup)
// Prints each state with its start offset and duration, then the final output. Exit code 0 = SUCCEEDED,
// 1 = FAILED (error and cause printed), 2 = usage or runner error.

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
    definition: resolve(here, '../../terraform/backup.asl.json'),
    name: `local-${new Date().toISOString().replace(/[^0-9]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`,
    input: '{}',
    lambdaEndpoint: process.env.LAMBDA_ENDPOINT || 'http://127.0.0.1:9000',
    waitMs: undefined,
    retryMs: undefined,
    resultFile: undefined,
    quiet: false,
    machines: { ...MACHINES },
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--definition': opts.definition = next(); break;
      case '--name': opts.name = next(); break;
      case '--input': opts.input = next(); break;
      case '--input-file': opts.input = readFileSync(next(), 'utf8'); break;
      case '--lambda-endpoint': opts.lambdaEndpoint = next(); break;
      case '--wait-ms': opts.waitMs = Number(next()); break;
      case '--retry-ms': opts.retryMs = Number(next()); break;
      case '--result-file': opts.resultFile = next(); break;
      case '--quiet': opts.quiet = true; break;
      case '--machine-name': opts.machineName = next(); break;
      case '--machine': {
        const [key, file] = next().split('=');
        if (!key || !file) throw new Error('--machine needs KEY=ASL_FILE');
        opts.machines[key] = { name: `elasticache-backup-${key}`, definition: resolve(file) };
        break;
      }
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return opts;
}

/** This project's state machines: placeholder key → deployed name and definition. */
const MACHINES = {
  backup: { name: 'elasticache-backup', definition: resolve(here, '../../terraform/backup.asl.json') },
  restore: { name: 'elasticache-backup-restore', definition: resolve(here, '../../terraform/restore.asl.json') },
  fleet: { name: 'elasticache-backup-fleet', definition: resolve(here, '../../terraform/fleet.asl.json') },
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

/** Runs a child execution for a startExecution.sync Task; resolves to Step Functions' answer, or throws
 * States.TaskFailed. */
async function startExecutionSync(opts, resource, params, children) {
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
    ...opts, definition: machine.definition, machineName: machine.name, input, quiet: true,
    name: params.Name ?? `${name}-${randomUUID()}`, resultFile: undefined,
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

export async function runExecution(opts, log = console.log) {
  opts = { machines: MACHINES, ...opts };
  const definition = JSON.parse(render(readFileSync(opts.definition, 'utf8'), opts.machines));
  const children = [];
  const machine = new StateMachine(definition, { validationOptions: { checkPaths: true, checkArn: false } });
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
    if (state.Type === 'Task' && START_EXECUTION.test(state.Resource)) {
      taskResourceLocalHandlers[name] = (input) => startExecutionSync(opts, state.Resource, input, children);
      if (opts.retryMs !== undefined) retryIntervalOverrides[name] = opts.retryMs;
    } else if (state.Type === 'Task') {
      const fn = functionName(state.Resource);
      taskResourceLocalHandlers[name] = (input) => invoke(opts.lambdaEndpoint, fn, input);
      if (opts.retryMs !== undefined) retryIntervalOverrides[name] = opts.retryMs;
    }
    if (state.Type === 'Wait' && opts.waitMs !== undefined) waitTimeOverrides[name] = opts.waitMs;
  }
  const startTime = new Date();
  const machineName = opts.machineName ?? 'elasticache-backup';
  const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machineName}:${opts.name}`;
  const execution = machine.run(JSON.parse(opts.input), {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: { Id: executionArn, Name: opts.name, StartTime: startTime.toISOString(), Input: JSON.parse(opts.input) },
      StateMachine: { Id: machineArn(machineName), Name: machineName },
    },
  });

  const states = [];
  const entered = new Map();
  const t0 = startTime.getTime();
  const fmt = (ms) => `${(ms / 1000).toFixed(3).padStart(8)}s`;
  for await (const ev of execution.eventLogs) {
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
  }
  return {
    name: opts.name, executionArn, status, error, cause, input: JSON.parse(opts.input), output, states,
    durationMs: Date.now() - t0,
    startDate: startTime.toISOString(), stopDate: new Date().toISOString(), children,
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
