import { OptionError } from '../errors.js';
import type { NodeId } from './types.js';

/** A backend's live nodes by id: ids are handed out from 1 and never reused within one backend. */
export class NodeTable<T> {
  private readonly nodes = new Map<number, T>();
  private nextId = 1;

  get size(): number {
    return this.nodes.size;
  }

  /** The node's record; an OptionError when it was released or never created. */
  get(id: NodeId): T {
    const e = this.nodes.get(id);
    if (e === undefined) throw new OptionError(`node ${id} does not exist (released or never created)`);
    return e;
  }

  /** The record, or undefined when the id is not live (release skips those). */
  find(id: NodeId): T | undefined {
    return this.nodes.get(id);
  }

  add(entry: T): NodeId {
    const id = this.nextId++ as NodeId;
    this.nodes.set(id, entry);
    return id;
  }

  delete(id: NodeId): void {
    this.nodes.delete(id);
  }

  clear(): void {
    this.nodes.clear();
  }
}
