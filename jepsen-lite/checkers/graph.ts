/**
 * A small directed graph with typed edges (a bitmask per edge) for the dependency-graph checks:
 * Tarjan's strongly connected components and a breadth-first shortest path restricted to one
 * component and a subset of edge types. Both are iterative (no recursion limit on 100k nodes).
 */

export class TypedGraph {
  /** out[u]: v → mask of edge types u → v. */
  readonly out: Map<number, number>[];

  constructor(readonly size: number) {
    this.out = Array.from({ length: size }, () => new Map<number, number>());
  }

  /** Adds type bits to edge u → v; returns whether the bits were new. */
  add(u: number, v: number, bits: number): boolean {
    if (u === v) return false;
    const m = this.out[u]!;
    const old = m.get(v) ?? 0;
    if ((old | bits) === old) return false;
    m.set(v, old | bits);
    return true;
  }

  mask(u: number, v: number): number {
    return this.out[u]?.get(v) ?? 0;
  }

  /**
   * Strongly connected components over edges with (mask & allowed) != 0. Returns comp[u] (a
   * component id) and the components with more than one node.
   */
  scc(allowed: number): { comp: Int32Array; components: number[][] } {
    const n = this.size;
    const index = new Int32Array(n).fill(-1);
    const low = new Int32Array(n);
    const onStack = new Uint8Array(n);
    const comp = new Int32Array(n).fill(-1);
    const stack: number[] = [];
    const components: number[][] = [];
    let counter = 0;
    let compId = 0;
    // Explicit DFS stack of (node, iterator over its successors).
    const work: { u: number; it: Iterator<[number, number]> }[] = [];
    for (let s = 0; s < n; s++) {
      if (index[s] !== -1) continue;
      index[s] = low[s] = counter++;
      stack.push(s);
      onStack[s] = 1;
      work.push({ u: s, it: this.out[s]!.entries() });
      while (work.length > 0) {
        const top = work[work.length - 1]!;
        const u = top.u;
        let pushed = false;
        for (let r = top.it.next(); !r.done; r = top.it.next()) {
          const [v, m] = r.value;
          if ((m & allowed) === 0) continue;
          if (index[v] === -1) {
            index[v] = low[v] = counter++;
            stack.push(v);
            onStack[v] = 1;
            work.push({ u: v, it: this.out[v]!.entries() });
            pushed = true;
            break;
          } else if (onStack[v] === 1) {
            low[u] = Math.min(low[u]!, index[v]!);
          }
        }
        if (pushed) continue;
        work.pop();
        const parent = work[work.length - 1];
        if (parent !== undefined) low[parent.u] = Math.min(low[parent.u]!, low[u]!);
        if (low[u] === index[u]) {
          const members: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            comp[w] = compId;
            members.push(w);
          } while (w !== u);
          if (members.length > 1) components.push(members);
          compId++;
        }
      }
    }
    return { comp, components };
  }

  /**
   * Shortest path from `from` to `to` over edges with (mask & allowed) != 0 whose endpoints are
   * both in component `c` (comp[x] === c). Returns the node list [from, ..., to] or undefined.
   */
  shortestPath(from: number, to: number, allowed: number, comp: Int32Array, c: number, maxVisits = Infinity): number[] | undefined {
    const parent = new Map<number, number>([[from, -1]]);
    let frontier = [from];
    let visits = 0;
    while (frontier.length > 0) {
      const nextFrontier: number[] = [];
      for (const u of frontier) {
        for (const [v, m] of this.out[u]!) {
          if ((m & allowed) === 0 || comp[v] !== c || parent.has(v)) continue;
          parent.set(v, u);
          if (v === to) {
            const path = [v];
            let x = u;
            while (x !== -1) {
              path.push(x);
              x = parent.get(x)!;
            }
            return path.reverse();
          }
          if (++visits > maxVisits) return undefined;
          nextFrontier.push(v);
        }
      }
      frontier = nextFrontier;
    }
    return undefined;
  }
}
