/** The core task scheduler (switch_scheduler.c): tasks that run when the wall clock's whole epoch second reaches them. */
import type { EventFactory, SimEvent } from './events.js';
import { link, unlink } from './set-index.js';
import type { TimerSet } from './timers.js';

/** What the scheduler needs from the simulator. */
export interface SchedulerHost {
  readonly factory: EventFactory;
  readonly timers: TimerSet;
  fire(event: SimEvent): void;
}

interface Task {
  id: number;
  desc: string;
  group: string;
  /** Epoch second at which the task becomes due. */
  runtime: number;
  /** Seconds between runs (0: runs once). */
  repeat: number;
  run: () => void;
}

// The lines of switch_event_create for the scheduler's own events (switch_scheduler.c, v1.10.12).
const ADD_SITE = { file: 'switch_scheduler.c', func: 'switch_scheduler_add_task_ex', line: 266 };
const DEL_SITE = { file: 'switch_scheduler.c', func: 'task_thread_loop', line: 151 };
const RE_SITE = { file: 'switch_scheduler.c', func: 'switch_scheduler_execute', line: 73 };

/**
 * switch_scheduler_task_thread waits for its event queue with switch_queue_pop_timeout(…, 500000):
 * the task list is looked at every 0.5 s, and at once after each task is added or deleted (those
 * push ADD_SCHEDULE/DEL_SCHEDULE onto that queue, which wakes the thread).
 */
export const SCHEDULER_POLL_MS = 500;

/** The wall clock's whole epoch second, as switch_epoch_time_now(NULL) reads it. */
export function epochSecondNow(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * The scheduler runs on the real wall clock, never on the simulator's `timeScale`: its runtimes are
 * absolute epoch seconds, the same clock every event's Event-Date-Timestamp reports, and an
 * application computes them from that clock. (`timeScale` speeds up simulated media only.)
 */
export class Scheduler {
  /** Pending tasks by id; ids grow, so this is also the order of the task list. */
  private readonly tasks = new Map<number, Task>();
  /** Pending tasks by group (sched_del by uuid finds a call's tasks without a scan). */
  private readonly groups = new Map<string, Set<Task>>();
  /** Pending tasks by the epoch second they are due (a round looks only at the seconds reached). */
  private readonly byRuntime = new Map<number, Set<Task>>();
  // Task 1 is the core heartbeat (the captures' RE_SCHEDULE events name it so).
  private lastId = 1;
  private poller: (() => void) | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly host: SchedulerHost) {}

  /**
   * switch_scheduler_add_task_ex: a runtime earlier than now is read as an interval (the task is
   * repeated every `runtime` seconds, first at now + runtime) — so an absolute time already in the
   * past lands decades away. Returns the task id.
   */
  add(runtime: number, desc: string, group: string, run: () => void): number {
    const now = epochSecondNow();
    let repeat = 0;
    if (runtime < now) {
      repeat = runtime;
      runtime += now;
    }
    const task: Task = { id: ++this.lastId, desc, group: group || 'none', runtime, repeat, run };
    this.tasks.set(task.id, task);
    link(this.groups, task.group, task);
    link(this.byRuntime, task.runtime, task);
    this.fireTaskEvent('ADD_SCHEDULE', ADD_SITE, task);
    this.wake();
    return task.id;
  }

  /** switch_scheduler_del_task_id: 1 when a task with that id was pending, else 0. */
  deleteId(id: number): number {
    const task = this.tasks.get(id);
    if (!task) return 0;
    this.remove([task]);
    return 1;
  }

  /** switch_scheduler_del_task_group: how many pending tasks of the group were deleted. */
  deleteGroup(group: string): number {
    if (group === '') return 0;
    const doomed = inListOrder(this.groups.get(group));
    this.remove(doomed);
    return doomed.length;
  }

  /** Pending tasks of a group, earliest first (for tests and tools). */
  pending(group?: string): Array<{ id: number; desc: string; group: string; runtime: number }> {
    const tasks = group === undefined ? [...this.tasks.values()] : [...(this.groups.get(group) ?? [])];
    return tasks.map(({ id, desc, group: g, runtime }) => ({ id, desc, group: g, runtime })).sort((a, b) => a.runtime - b.runtime || a.id - b.id);
  }

  /** Forgets every task (simulator stop). */
  clear(): void {
    this.tasks.clear();
    this.groups.clear();
    this.byRuntime.clear();
    this.poller?.();
    this.poller = undefined;
    this.host.timers.cancel(this.wakeTimer);
    this.wakeTimer = undefined;
  }

  private remove(doomed: Task[]): void {
    if (doomed.length === 0) return;
    for (const t of doomed) {
      this.tasks.delete(t.id);
      unlink(this.groups, t.group, t);
      unlink(this.byRuntime, t.runtime, t);
    }
    for (const t of doomed) this.fireTaskEvent('DEL_SCHEDULE', DEL_SITE, t);
    this.wake();
  }

  /** An event on the scheduler's queue wakes its thread: the list is looked at right away. */
  private wake(): void {
    if (this.wakeTimer === undefined) {
      this.wakeTimer = this.host.timers.set(() => {
        this.wakeTimer = undefined;
        this.runDue();
      }, 0);
    }
    if (this.tasks.size > 0 && !this.poller) this.poller = this.host.timers.every(() => this.runDue(), SCHEDULER_POLL_MS);
    if (this.tasks.size === 0 && this.poller) {
      this.poller();
      this.poller = undefined;
    }
  }

  /** task_thread_loop: every task with now >= runtime runs, in list order; a repeating one is queued again. */
  private runDue(): void {
    const now = epochSecondNow();
    const reached: Task[] = [];
    for (const [runtime, tasks] of this.byRuntime) if (now >= runtime) reached.push(...tasks);
    for (const task of reached.sort((a, b) => a.id - b.id)) {
      if (this.tasks.get(task.id) !== task) continue; // deleted by an earlier task of this round
      task.run();
      if (this.tasks.get(task.id) !== task) continue; // the task deleted itself
      if (task.repeat > 0) {
        unlink(this.byRuntime, task.runtime, task);
        task.runtime = epochSecondNow() + task.repeat;
        link(this.byRuntime, task.runtime, task);
        this.fireTaskEvent('RE_SCHEDULE', RE_SITE, task);
      } else {
        this.remove([task]);
      }
    }
    if (this.tasks.size === 0 && this.poller) {
      this.poller();
      this.poller = undefined;
    }
  }

  private fireTaskEvent(name: string, site: typeof ADD_SITE, task: Task): void {
    const ev = this.host.factory.create(name, site);
    ev.add('Task-ID', task.id);
    ev.add('Task-Desc', task.desc);
    ev.add('Task-Group', task.group);
    ev.add('Task-Runtime', task.runtime);
    this.host.fire(ev);
  }
}

function inListOrder(tasks: Set<Task> | undefined): Task[] {
  return tasks === undefined ? [] : [...tasks].sort((a, b) => a.id - b.id);
}
