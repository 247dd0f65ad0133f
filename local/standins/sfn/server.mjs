// A local Step Functions endpoint: answers the part of the Step Functions API this project's tools use, and runs
// each execution in this process with run.mjs's runExecution (aws-local-stepfunctions, Tasks invoking the Rust
// handlers through cargo lambda watch). Point a client at it with AWS_ENDPOINT_URL_SFN=<endpoint>.
//
// Protocol: awsJson1.0 as botocore's `stepfunctions` model (2016-11-23) describes it — POST /, `X-Amz-Target:
// AWSStepFunctions.<Operation>`, JSON bodies, timestamps as epoch seconds; an error is HTTP 400 with
// {"__type": "<Code>", "message": "…"}, the codes those the model declares for the operation. Member names and
// shapes follow the model exactly.
//
// Operations:
//   StartExecution       name optional (a UUID), 1–80 characters without the ones AWS forbids (InvalidName); input
//                        JSON (InvalidExecutionInput); the same name and input while running answers the running
//                        execution again, any other reuse of a name is ExecutionAlreadyExists (STANDARD rules)
//   DescribeExecution    includedData METADATA_ONLY leaves out input and output
//   ListExecutions       by stateMachineArn, statusFilter, newest first (running by startDate, others by stopDate)
//   GetExecutionHistory  reverseOrder, includeExecutionData, maxResults (default 100, at most 1000) and nextToken
//   StopExecution        ABORTED with the given error and cause; a child it is waiting for (startExecution.sync)
//                        is stopped too; stopping an execution that has ended changes nothing and answers its stopDate
//   DescribeStateMachine, ListStateMachines   the project's state machines: backup (elasticache-backup), restore
//                        (elasticache-backup-restore), fleet (elasticache-backup-fleet), terraform/<key>.asl.json
//                        rendered as run.mjs renders it; `--machine KEY=ASL_FILE` replaces one (keeping its name) or
//                        adds one (elasticache-backup-KEY). A machine whose file is missing does not exist.
// Refused: every other operation (UnknownOperationException); version and alias ARNs (StateMachineDoesNotExist) and
// Distributed Map labels (ValidationException) in StartExecution; ListExecutions by mapRunArn (ValidationException).
// Executions started by a startExecution.sync Task (the fleet's per-target backups) are executions of their state
// machine here too, with their own history; a Distributed Map's child workflow executions are not listed.
//
// History events, from run.mjs's reports: ExecutionStarted (input, roleArn), <Type>StateEntered / <Type>StateExited
// (name, input / output) for every state (Fail: entered only), MapStateSucceeded / MapStateFailed and their Parallel
// twins, MapIterationStarted / Succeeded / Failed (name, index), LambdaFunctionScheduled / Started / Succeeded / Failed
// for a Task whose Resource is a Lambda ARN, TaskScheduled / TaskStarted / TaskSubmitted / TaskSucceeded / TaskFailed
// (resourceType "states") for startExecution.sync, MapRunStarted / Succeeded / Failed for a Distributed Map, and
// ExecutionSucceeded / Failed / Aborted / TimedOut. Ids are 1-based; previousEventId is the event before (0 for the
// first, and for ExecutionAborted and ExecutionTimedOut, as AWS answers). Retries and catches have no events of their
// own, as in AWS. Everything is kept in memory for the life of the server.
//
// Usage:
//   node server.mjs --lambda-endpoint http://127.0.0.1:9000 [--port 0] [--ready-file PATH] [--wait-ms N]
//     [--retry-ms N] [--machine KEY=ASL_FILE ...]
// (--port 0: any free port; once listening, the ready file gets {"endpoint": "http://127.0.0.1:PORT"}; --wait-ms /
// --retry-ms: every Wait state / Retry interval takes N ms, as with run.mjs.) The region is AWS_REGION (us-east-1),
// the account 123456789012. A Distributed Map needs AWS_ENDPOINT_URL_S3, as with run.mjs.

import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { MACHINES, render, runExecution, sharedOption, walkArgs } from './run.mjs';

const REGION = process.env.AWS_REGION || 'us-east-1';
const ACCOUNT = '123456789012';
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'];
const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;
const INPUT_MAX = 262144;

/** The state machines' roles, as terraform/iam.tf names them (`<name>-<role>-<region>`); an added machine's is
 * `<key>-machine`. */
const ROLES = { backup: 'state-machine', restore: 'restore-machine', fleet: 'fleet-machine' };

function parseArgs(argv) {
  const opts = { port: 0, readyFile: undefined, lambdaEndpoint: process.env.LAMBDA_ENDPOINT || 'http://127.0.0.1:9000', machines: { ...MACHINES } };
  // A replaced project machine keeps its deployed name (run.mjs's --machine names every machine by its key).
  const nameOf = (key) => MACHINES[key]?.name ?? `elasticache-backup-${key}`;
  walkArgs(argv, (a, next) => {
    switch (a) {
      case '--port': opts.port = Number(next()); return true;
      case '--ready-file': opts.readyFile = next(); return true;
      default: return sharedOption(opts, a, next, nameOf);
    }
  });
  if (!Number.isInteger(opts.port) || opts.port < 0) throw new Error('--port needs a port number (0: any free port)');
  return opts;
}

/** An error answer: HTTP 400 with the model's error code. */
class ApiError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

const stateMachineArn = (name) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
const seconds = (ms) => ms / 1000;

/** `arn:aws:states:<region>:<account>:<type>:<rest>` checked as AWS checks it: InvalidArn for a malformed ARN or one
 * of another resource type. Returns the parts after the type. */
function parseArn(arn, type) {
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) throw new ApiError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${arn}'`);
  const parts = arn.split(':');
  if (parts.length < 7 || parts[2] !== 'states' || !parts[3] || !/^\d{12}$/.test(parts[4])) {
    throw new ApiError('InvalidArn', `Invalid Arn: 'Invalid ARN: ${arn}'`);
  }
  if (parts[5] !== type) throw new ApiError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${parts[5]}'`);
  return parts.slice(6);
}

// Step Functions API Reference, StartExecution `name`: no white space, brackets, wildcards, these special characters,
// control characters or surrogates; 1–80 characters.
const FORBIDDEN_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udfff]/u;
function checkName(name) {
  const length = [...name].length;
  if (length < 1 || length > 80 || FORBIDDEN_NAME.test(name)) throw new ApiError('InvalidName', `Invalid Name: '${name}'`);
}

/** The page size a request asks for: 0 or absent is the default; more than the maximum is refused. */
function pageSize(maxResults) {
  if (maxResults === undefined || maxResults === null || maxResults === 0) return PAGE_DEFAULT;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > PAGE_MAX) {
    throw new ApiError('ValidationException', `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${PAGE_MAX}`);
  }
  return maxResults;
}

/** Opaque page tokens bound to the request they continue ("keep all other arguments unchanged"): InvalidToken for
 * anything else. */
const fingerprint = (request) => createHash('sha256').update(JSON.stringify(request)).digest('base64url').slice(0, 16);
const encodeToken = (request, position) => Buffer.from(JSON.stringify({ f: fingerprint(request), p: position })).toString('base64url');
function decodeToken(token, request) {
  if (token === undefined || token === null) return undefined;
  let decoded;
  try { decoded = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')); } catch { decoded = undefined; }
  if (!decoded || decoded.f !== fingerprint(request) || decoded.p === undefined) throw new ApiError('InvalidToken', `Invalid Token: '${token}'`);
  return decoded.p;
}

class Service {
  constructor(opts) {
    this.opts = opts;
    this.created = Date.now();
    /** executionArn → execution; insertion order is start order. */
    this.executions = new Map();
  }

  machineByName(name) {
    return Object.entries(this.opts.machines).find(([, m]) => m.name === name);
  }

  /** The machine a state machine ARN names, or StateMachineDoesNotExist (also when its definition file is gone). */
  machine(arn) {
    const [name, ...qualifier] = parseArn(arn, 'stateMachine');
    const found = qualifier.length === 0 ? this.machineByName(name) : undefined;
    if (!found || !existsSync(found[1].definition)) {
      throw new ApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    return { key: found[0], ...found[1] };
  }

  execution(arn) {
    parseArn(arn, 'execution');
    const execution = this.executions.get(arn);
    if (!execution) throw new ApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  roleArn(machine) {
    return `arn:aws:iam::${ACCOUNT}:role/elasticache-backup-${ROLES[machine.key] ?? `${machine.key}-machine`}-${REGION}`;
  }

  // -- executions and their history ------------------------------------------------------------------------------

  /** Registers an execution run.mjs announces (the one StartExecution started, or a child of it); returns the
   * callback its events go to. */
  register(announce) {
    const found = this.machineByName(announce.machineName);
    if (!found) return undefined; // a Distributed Map's child workflow: not an execution of a state machine here
    if (this.executions.has(announce.executionArn)) {
      const err = new Error(`Execution Already Exists: '${announce.executionArn}'`);
      err.name = 'StepFunctions.ExecutionAlreadyExistsException';
      throw err;
    }
    const execution = {
      executionArn: announce.executionArn, stateMachineArn: announce.stateMachineArn, name: announce.name,
      status: 'RUNNING', startDate: announce.startDate.getTime(), input: announce.input, events: [], stop: announce.stop,
      failed: new Set(),
    };
    this.executions.set(execution.executionArn, execution);
    this.record(execution, execution.startDate, 'ExecutionStarted', 'executionStartedEventDetails', {
      input: execution.input, inputDetails: { truncated: false }, roleArn: this.roleArn({ key: found[0], ...found[1] }),
    });
    return (ev) => this.onEvent(execution, ev);
  }

  record(execution, timestampMs, type, detailsKey, details, previousEventId) {
    const id = execution.events.length + 1;
    const event = { timestamp: seconds(timestampMs), type, id, previousEventId: previousEventId ?? id - 1 };
    if (detailsKey) event[detailsKey] = details;
    execution.events.push(event);
  }

  /** One run.mjs event → the history events Step Functions records for it. */
  onEvent(execution, ev) {
    if (execution.status !== 'RUNNING') return; // stopped: what its in-flight states still do is not its history
    const at = ev.timestamp;
    const state = ev.state;
    const key = state ? `${state.name}#${ev.index ?? ''}` : '';
    const data = (value) => JSON.stringify(value ?? null);
    switch (ev.type) {
      case 'StateEntered':
        execution.failed.delete(key);
        this.record(execution, at, `${state.type}StateEntered`, 'stateEnteredEventDetails',
          { name: state.name, input: data(state.input), inputDetails: { truncated: false } });
        break;
      case 'StateFailed':
        execution.failed.add(key);
        if (state.type === 'Map' || state.type === 'Parallel') this.record(execution, at, `${state.type}StateFailed`);
        break;
      case 'StateRetried':
        execution.failed.delete(key);
        break;
      case 'StateExited':
        if ((state.type === 'Map' || state.type === 'Parallel') && !execution.failed.has(key)) {
          this.record(execution, at, `${state.type}StateSucceeded`);
        }
        execution.failed.delete(key);
        this.record(execution, at, `${state.type}StateExited`, 'stateExitedEventDetails',
          { name: state.name, output: data(state.output), outputDetails: { truncated: false } });
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const detailsKey = `mapIteration${ev.type.slice('MapIteration'.length)}EventDetails`;
        this.record(execution, at, ev.type, detailsKey, { name: ev.parentState.name, index: ev.index });
        break;
      }
      case 'MapRunStarted':
        this.record(execution, at, 'MapRunStarted', 'mapRunStartedEventDetails', { mapRunArn: ev.mapRunArn });
        break;
      case 'TaskScheduled':
      case 'TaskSubmitted':
      case 'TaskSucceeded':
      case 'TaskFailed':
        this.onTask(execution, ev);
        break;
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
      case 'ExecutionAborted':
      case 'ExecutionTimedOut':
        this.close(execution, ev);
        break;
      default:
        break; // StateCaught, ParallelBranch*: no history event of their own in Step Functions
    }
  }

  onTask(execution, ev) {
    const at = ev.timestamp;
    const data = (value) => JSON.stringify(value ?? null);
    if (ev.kind === 'lambda') {
      if (ev.type === 'TaskScheduled') {
        const details = { resource: ev.resource, input: data(ev.input), inputDetails: { truncated: false } };
        if (ev.timeoutSeconds !== undefined) details.timeoutInSeconds = ev.timeoutSeconds;
        this.record(execution, at, 'LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', details);
        this.record(execution, at, 'LambdaFunctionStarted');
      } else if (ev.type === 'TaskSucceeded') {
        this.record(execution, at, 'LambdaFunctionSucceeded', 'lambdaFunctionSucceededEventDetails',
          { output: data(ev.output), outputDetails: { truncated: false } });
      } else if (ev.type === 'TaskFailed') {
        this.record(execution, at, 'LambdaFunctionFailed', 'lambdaFunctionFailedEventDetails', { error: ev.Error, cause: ev.Cause });
      }
    } else if (ev.kind === 'states') {
      // `arn:aws:states:::states:startExecution.sync:2` → resourceType "states", resource "startExecution.sync:2".
      const [resourceType, ...rest] = ev.resource.split(':').slice(5);
      const resource = rest.join(':');
      if (ev.type === 'TaskScheduled') {
        const details = { resourceType, resource, region: REGION, parameters: data(ev.input) };
        if (ev.timeoutSeconds !== undefined) details.timeoutInSeconds = ev.timeoutSeconds;
        this.record(execution, at, 'TaskScheduled', 'taskScheduledEventDetails', details);
        this.record(execution, at, 'TaskStarted', 'taskStartedEventDetails', { resourceType, resource });
      } else if (ev.type === 'TaskSubmitted') {
        this.record(execution, at, 'TaskSubmitted', 'taskSubmittedEventDetails',
          { resourceType, resource, output: data(ev.output), outputDetails: { truncated: false } });
      } else if (ev.type === 'TaskSucceeded') {
        this.record(execution, at, 'TaskSucceeded', 'taskSucceededEventDetails',
          { resourceType, resource, output: data(ev.output), outputDetails: { truncated: false } });
      } else if (ev.type === 'TaskFailed') {
        this.record(execution, at, 'TaskFailed', 'taskFailedEventDetails', { resourceType, resource, error: ev.Error, cause: ev.Cause });
      }
    } else if (ev.kind === 'map') {
      if (ev.type === 'TaskSucceeded') this.record(execution, at, 'MapRunSucceeded');
      else if (ev.type === 'TaskFailed') this.record(execution, at, 'MapRunFailed', 'mapRunFailedEventDetails', { error: ev.Error, cause: ev.Cause });
    }
  }

  /** The execution's end: its status, and the closing history event. */
  close(execution, ev) {
    if (execution.status !== 'RUNNING') return;
    const errorAndCause = {};
    if (ev.error !== undefined && ev.error !== null) errorAndCause.error = String(ev.error);
    if (ev.cause !== undefined && ev.cause !== null) errorAndCause.cause = typeof ev.cause === 'string' ? ev.cause : JSON.stringify(ev.cause);
    Object.assign(execution, { status: ev.status, stopDate: ev.timestamp, ...errorAndCause });
    if (ev.status === 'SUCCEEDED') {
      execution.output = JSON.stringify(ev.output ?? null);
      this.record(execution, ev.timestamp, 'ExecutionSucceeded', 'executionSucceededEventDetails',
        { output: execution.output, outputDetails: { truncated: false } });
    } else if (ev.status === 'FAILED') {
      this.record(execution, ev.timestamp, 'ExecutionFailed', 'executionFailedEventDetails', errorAndCause);
    } else if (ev.status === 'ABORTED') {
      this.record(execution, ev.timestamp, 'ExecutionAborted', 'executionAbortedEventDetails', errorAndCause, 0);
    } else {
      this.record(execution, ev.timestamp, 'ExecutionTimedOut', 'executionTimedOutEventDetails', errorAndCause, 0);
    }
    execution.stop = undefined;
  }

  // -- operations ------------------------------------------------------------------------------------------------

  StartExecution(req) {
    if (req.stateMachineArn === undefined) throw new ApiError('ValidationException', "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null");
    const [smName] = parseArn(req.stateMachineArn, 'stateMachine');
    if (smName.includes('/')) {
      throw new ApiError('ValidationException', `A qualified state machine ARN that refers to a Distributed Map state cannot be started: '${req.stateMachineArn}'`);
    }
    const machine = this.machine(req.stateMachineArn);
    const name = req.name ?? randomUUID();
    checkName(name);
    const input = req.input ?? '{}';
    if (Buffer.byteLength(input) > INPUT_MAX) {
      throw new ApiError('ValidationException', `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${INPUT_MAX}`);
    }
    try { JSON.parse(input); } catch (e) {
      throw new ApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${e.message}'`);
    }
    const executionArn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:${machine.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // StartExecution is idempotent for STANDARD workflows: same name and input while running → the same answer.
      if (existing.status === 'RUNNING' && existing.input === input) {
        return { executionArn, startDate: seconds(existing.startDate) };
      }
      throw new ApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let onRoot;
    const run = runExecution({
      definition: machine.definition, machineName: machine.name, machines: this.opts.machines, input, name,
      lambdaEndpoint: this.opts.lambdaEndpoint, waitMs: this.opts.waitMs, retryMs: this.opts.retryMs, quiet: true,
      observe: (announce) => {
        const onEvent = this.register(announce);
        if (announce.executionArn === executionArn) onRoot = onEvent;
        return onEvent;
      },
    });
    run.catch((e) => {
      // A runner error (a definition run.mjs cannot run): the execution fails with it, as Step Functions would not
      // have let it start.
      console.error(`server.mjs: ${executionArn}: ${e.stack ?? e}`);
      const execution = this.executions.get(executionArn);
      if (!execution) {
        onRoot = this.register({ executionArn, name, machineName: machine.name, stateMachineArn: stateMachineArn(machine.name), input, startDate: new Date() });
      }
      onRoot?.({ type: 'ExecutionFailed', timestamp: Date.now(), status: 'FAILED', error: 'States.Runtime', cause: String(e.message ?? e) });
    });
    const execution = this.executions.get(executionArn);
    return { executionArn, startDate: seconds(execution?.startDate ?? Date.now()) };
  }

  DescribeExecution(req) {
    const e = this.execution(req.executionArn);
    const out = { executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, startDate: seconds(e.startDate) };
    if (e.stopDate !== undefined) out.stopDate = seconds(e.stopDate);
    if (req.includedData !== 'METADATA_ONLY') {
      out.input = e.input;
      out.inputDetails = { included: true };
      if (e.output !== undefined) {
        out.output = e.output;
        out.outputDetails = { included: true };
      }
    }
    if (e.error !== undefined) out.error = e.error;
    if (e.cause !== undefined) out.cause = e.cause;
    return out;
  }

  ListExecutions(req) {
    if (req.mapRunArn !== undefined) throw new ApiError('ValidationException', 'ListExecutions by mapRunArn is not supported by the local Step Functions endpoint');
    if (req.stateMachineArn === undefined) throw new ApiError('ValidationException', 'Must provide a StateMachine ARN or MapRun ARN');
    const machine = this.machine(req.stateMachineArn);
    if (req.statusFilter !== undefined && !STATUSES.includes(req.statusFilter)) {
      throw new ApiError('ValidationException', `1 validation error detected: Value '${req.statusFilter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${STATUSES.join(', ')}]`);
    }
    if (req.redriveFilter !== undefined && !['REDRIVEN', 'NOT_REDRIVEN'].includes(req.redriveFilter)) {
      throw new ApiError('ValidationException', `1 validation error detected: Value '${req.redriveFilter}' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]`);
    }
    const size = pageSize(req.maxResults);
    const request = { op: 'ListExecutions', arn: req.stateMachineArn, status: req.statusFilter, redrive: req.redriveFilter };
    const after = decodeToken(req.nextToken, request);
    // Newest first: a running execution by its startDate, any other by its stopDate; ties by ARN.
    const sortKey = (e) => [e.stopDate ?? e.startDate, e.executionArn];
    const newerFirst = (a, b) => (a[0] !== b[0] ? b[0] - a[0] : a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : 0);
    let listed = [...this.executions.values()]
      .filter((e) => e.stateMachineArn === stateMachineArn(machine.name))
      .filter((e) => req.statusFilter === undefined || e.status === req.statusFilter)
      .filter(() => req.redriveFilter !== 'REDRIVEN') // nothing is redriven here
      .sort((a, b) => newerFirst(sortKey(a), sortKey(b)));
    if (after !== undefined) listed = listed.filter((e) => newerFirst(after, sortKey(e)) < 0);
    const page = listed.slice(0, size);
    const out = {
      executions: page.map((e) => {
        const item = { executionArn: e.executionArn, stateMachineArn: e.stateMachineArn, name: e.name, status: e.status, startDate: seconds(e.startDate) };
        if (e.stopDate !== undefined) item.stopDate = seconds(e.stopDate);
        return item;
      }),
    };
    if (listed.length > size) out.nextToken = encodeToken(request, sortKey(page[page.length - 1]));
    return out;
  }

  GetExecutionHistory(req) {
    const e = this.execution(req.executionArn);
    const size = pageSize(req.maxResults);
    const reverse = req.reverseOrder === true;
    const request = { op: 'GetExecutionHistory', arn: req.executionArn, reverse };
    const after = decodeToken(req.nextToken, request);
    // Positions are event ids, so a page boundary holds while a running execution adds events.
    let events = reverse ? [...e.events].reverse() : e.events;
    if (after !== undefined) events = events.filter((ev) => (reverse ? ev.id < after : ev.id > after));
    const page = events.slice(0, size);
    const withData = req.includeExecutionData !== false;
    const out = {
      events: page.map((ev) => (withData ? ev : Object.fromEntries(Object.entries(ev).map(([k, v]) => [k, withoutData(v)])))),
    };
    if (events.length > size) out.nextToken = encodeToken(request, page[page.length - 1].id);
    return out;
  }

  StopExecution(req) {
    const e = this.execution(req.executionArn);
    if (e.status === 'RUNNING') {
      // Ends now, with the caller's error and cause; the runner's own end (its ExecutionAborted) finds it closed.
      const stop = e.stop;
      this.close(e, { status: 'ABORTED', timestamp: Date.now(), error: req.error, cause: req.cause });
      stop?.(req.error, req.cause);
    }
    return { stopDate: seconds(e.stopDate) };
  }

  DescribeStateMachine(req) {
    const m = this.machine(req.stateMachineArn);
    return {
      stateMachineArn: stateMachineArn(m.name), name: m.name, status: 'ACTIVE',
      definition: render(readFileSync(m.definition, 'utf8'), this.opts.machines),
      roleArn: this.roleArn(m), type: 'STANDARD', creationDate: seconds(this.created),
      loggingConfiguration: {
        level: 'ERROR', includeExecutionData: true,
        destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/vendedlogs/states/${m.name}:*` } }],
      },
      tracingConfiguration: { enabled: true },
    };
  }

  ListStateMachines(req) {
    const size = pageSize(req.maxResults);
    const request = { op: 'ListStateMachines' };
    const after = decodeToken(req.nextToken, request);
    const all = Object.values(this.opts.machines)
      .filter((m) => existsSync(m.definition))
      .map((m) => m.name)
      .sort()
      .filter((name) => after === undefined || name > after);
    const page = all.slice(0, size);
    const out = {
      stateMachines: page.map((name) => ({ stateMachineArn: stateMachineArn(name), name, type: 'STANDARD', creationDate: seconds(this.created) })),
    };
    if (all.length > size) out.nextToken = encodeToken(request, page[page.length - 1]);
    return out;
  }
}

/** An event's details without the execution data (includeExecutionData: false). */
function withoutData(value) {
  if (!value || typeof value !== 'object') return value;
  const { input, output, ...rest } = value;
  return rest;
}

const OPERATIONS = ['StartExecution', 'DescribeExecution', 'ListExecutions', 'GetExecutionHistory', 'StopExecution',
  'DescribeStateMachine', 'ListStateMachines'];

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

export function serve(opts) {
  const service = new Service(opts);
  return createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        if (req.method !== 'POST' || req.url !== '/') throw new ApiError('UnknownOperationException', `${req.method} ${req.url}`);
        const target = String(req.headers['x-amz-target'] ?? '');
        const op = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
        if (!OPERATIONS.includes(op)) throw new ApiError('UnknownOperationException', `Unknown operation ${target}`);
        let body;
        try {
          const text = Buffer.concat(chunks).toString('utf8');
          body = text ? JSON.parse(text) : {};
        } catch (e) {
          throw new ApiError('SerializationException', `Malformed request body: ${e.message}`);
        }
        if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ApiError('SerializationException', 'The request body is not a JSON object');
        answer(res, 200, service[op](body));
      } catch (e) {
        if (e instanceof ApiError) answer(res, 400, { __type: e.code, message: e.message });
        else {
          console.error(`server.mjs: ${e.stack ?? e}`);
          answer(res, 500, { __type: 'InternalFailure', message: String(e.message ?? e) });
        }
      }
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`server.mjs: ${e.message}`);
    process.exit(2);
  }
  const server = serve(opts);
  server.listen(opts.port, '127.0.0.1', () => {
    const endpoint = `http://127.0.0.1:${server.address().port}`;
    if (opts.readyFile) writeFileSync(opts.readyFile, JSON.stringify({ endpoint }));
    console.log(`server.mjs: Step Functions API at ${endpoint} (Lambda at ${opts.lambdaEndpoint})`);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => { server.close(); process.exit(0); });
}
