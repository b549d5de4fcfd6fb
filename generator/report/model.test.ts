/**
 * The parts of the 2D-vs-3D model on small known inputs: min-cut bisection, the measured Rent
 * exponent (a chain ≈ 0, a 2D mesh ≈ ½, a random graph → 1), Donath's length, the min-cut
 * slicing floorplan (deterministic, inside the die, no overlap, footprint = max tier area,
 * memories over their consumers), wirelength, the wire-delay model.
 */
import { describe, expect, it } from "vitest";
import { bisect, incidence, type Csr } from "./mincut.ts";
import { donathLength, measureRent } from "./rent.ts";
import { branchOf, floorplanView, type Block } from "./floorplan.ts";
import { interNets, viewWire, blockWires } from "./wirelength.ts";
import { memoryPaths, pathLatencies, wireDelayModel } from "./latency.ts";
import { PUBLISHED, UTILIZATION } from "./constants.ts";
import type { Netlist, InstanceDecl } from "../top/netlist.ts";
import { Prng } from "../util/prng.ts";

function csr(n: number, nets: number[][]): Csr {
  const netStart = new Int32Array(nets.length + 1);
  let t = 0;
  nets.forEach((p, i) => {
    t += p.length;
    netStart[i + 1] = t;
  });
  return { vertices: n, netStart, netPins: Int32Array.from(nets.flat()) };
}
const grid = (k: number) => {
  const nets: number[][] = [];
  for (let y = 0; y < k; y++)
    for (let x = 0; x < k; x++) {
      if (x + 1 < k) nets.push([y * k + x, y * k + x + 1]);
      if (y + 1 < k) nets.push([y * k + x, (y + 1) * k + x]);
    }
  return csr(k * k, nets);
};

describe("min-cut bisection", () => {
  it("finds the single net joining two dense clusters, from a random start, balanced", () => {
    const nets: number[][] = [];
    const rng = new Prng(3);
    for (const base of [0, 50]) for (let i = 0; i < 400; i++) nets.push([base + rng.int(0, 49), base + rng.int(0, 49), base + rng.int(0, 49)]);
    nets.push([10, 60]);
    const g = csr(100, nets);
    const res = bisect(g, incidence(g), Int32Array.from({ length: 100 }, (_, i) => i));
    expect(res.cut).toBe(1);
    const s0 = [...res.side].filter((s) => s === 0).length;
    expect(s0).toBe(50);
    // the halves are the clusters
    expect(new Set([...res.side.slice(0, 50)]).size).toBe(1);
  });
  it("cuts a k x k mesh in about k nets and keeps both sides non-empty on tiny blocks", () => {
    const g = grid(16);
    const res = bisect(g, incidence(g), Int32Array.from({ length: 256 }, (_, i) => i));
    expect(res.cut).toBeLessThanOrEqual(24);
    for (const n of [2, 3]) {
      const r2 = bisect(g, incidence(g), Int32Array.from({ length: n }, (_, i) => i));
      const s = [...r2.side];
      expect(s.includes(0) && s.includes(1)).toBe(true);
    }
  });
});

describe("Rent exponent by recursive bisection", () => {
  it("is about 0 for a chain, about 1/2 for a mesh, near 1 for a random graph", async () => {
    const chain = csr(
      2048,
      Array.from({ length: 2047 }, (_, i) => [i, i + 1]),
    );
    const pc = await measureRent(chain, new Uint8Array(2047));
    expect(Math.abs(pc.p)).toBeLessThan(0.1);
    const mesh = grid(48);
    const pm = await measureRent(mesh, new Uint8Array(mesh.netStart.length - 1));
    // a finite mesh: blocks on the border have fewer external nets, so a little under 1/2
    expect(pm.p).toBeGreaterThan(0.35);
    expect(pm.p).toBeLessThan(0.55);
    const rng = new Prng(7);
    const rnd = csr(
      2048,
      Array.from({ length: 4096 }, () => [rng.int(0, 2047), rng.int(0, 2047)]).filter(([a, b]) => a !== b),
    );
    const pr = await measureRent(rnd, new Uint8Array(rnd.netStart.length - 1));
    expect(pr.p).toBeGreaterThan(0.8);
    expect(pr.measured && pm.measured && pc.measured).toBe(true);
  });
  it("is deterministic", async () => {
    const g = grid(24);
    const a = await measureRent(g, new Uint8Array(g.netStart.length - 1));
    const b = await measureRent(g, new Uint8Array(g.netStart.length - 1));
    expect(a).toEqual(b);
  });
});

describe("Donath's average length", () => {
  it("matches the formula and grows with N and p", () => {
    // 2/9 [7 (N^0.1 - 1)/(4^0.1 - 1) - (1 - N^-0.9)/(1 - 4^-0.9)] (1 - 4^-0.4)/(1 - N^-0.4) at N = 1e4, p = 0.6
    expect(donathLength(1e4, 0.6)).toBeCloseTo(6.7695, 3);
    expect(donathLength(1e4, 0.7)).toBeGreaterThan(donathLength(1e4, 0.6));
    expect(donathLength(1e5, 0.6)).toBeGreaterThan(donathLength(1e4, 0.6));
    // p = 1/2: continuous through the removable singularity
    expect(Math.abs(donathLength(1e4, 0.5) - donathLength(1e4, 0.5001))).toBeLessThan(0.01);
    expect(donathLength(1, 0.6)).toBe(0);
  });
});

// ---------------------------------------------------------------- a small top level

const port = (name: string, dir: "input" | "output", width: number) => ({ name, dir, width });
function inst(name: string, kind: "logic" | "memory", ports: { name: string; dir: "input" | "output"; width: number; net: string }[]): InstanceDecl {
  return { name, module: `m_${name}`, kind, group: kind === "memory" ? "mem" : name, ports: ports.map((p) => port(p.name, p.dir, p.width)), conns: Object.fromEntries(ports.map((p) => [p.name, p.net])) };
}
/** ctrl writes every memory (write ports wider than the read ports, as in st3d); a reads ma, b mb, c mc, d md; a -> b -> c -> d wide buses; ctrl <-> host. */
function netlist(): Netlist {
  const mem = (m: string, reader: string) =>
    inst(m, "memory", [
      { name: "clk", dir: "input", width: 1, net: "clk" },
      { name: "re", dir: "input", width: 1, net: `${reader}_${m}_re` },
      { name: "raddr", dir: "input", width: 8, net: `${reader}_${m}_raddr` },
      { name: "rdata", dir: "output", width: 32, net: `${m}_rdata` },
      { name: "we", dir: "input", width: 1, net: `ctrl_${m}_we` },
      { name: "waddr", dir: "input", width: 8, net: `ctrl_${m}_waddr` },
      { name: "wdata", dir: "input", width: 32, net: `ctrl_${m}_wdata` },
      { name: "wmask", dir: "input", width: 32, net: `ctrl_${m}_wmask` },
    ]);
  const logic = (name: string, reads: string[], writes: string[], extra: { name: string; dir: "input" | "output"; width: number; net: string }[]) =>
    inst(name, "logic", [
      { name: "clk", dir: "input", width: 1, net: "clk" },
      ...reads.flatMap((m) => [
        { name: `${m}_re`, dir: "output" as const, width: 1, net: `${name}_${m}_re` },
        { name: `${m}_raddr`, dir: "output" as const, width: 8, net: `${name}_${m}_raddr` },
        { name: `${m}_rdata`, dir: "input" as const, width: 32, net: `${m}_rdata` },
      ]),
      ...writes.flatMap((m) => [
        { name: `${m}_we`, dir: "output" as const, width: 1, net: `ctrl_${m}_we` },
        { name: `${m}_waddr`, dir: "output" as const, width: 8, net: `ctrl_${m}_waddr` },
        { name: `${m}_wdata`, dir: "output" as const, width: 32, net: `ctrl_${m}_wdata` },
        { name: `${m}_wmask`, dir: "output" as const, width: 32, net: `ctrl_${m}_wmask` },
      ]),
      ...extra,
    ]);
  const readers = ["a", "b", "c", "d"];
  return {
    module: "t_top",
    ports: [port("clk", "input", 1), port("host_in", "input", 16), port("host_out", "output", 16)],
    instances: [
      logic("ctrl", [], readers.map((x) => `m${x}`), [
        { name: "host_in", dir: "input", width: 16, net: "host_in" },
        { name: "host_out", dir: "output", width: 16, net: "host_out" },
        { name: "go", dir: "output", width: 1, net: "go" },
      ]),
      ...readers.map((x, k) =>
        logic(x, [`m${x}`], [], [
          { name: "go", dir: "input", width: 1, net: "go" },
          ...(k > 0 ? [{ name: "bin", dir: "input" as const, width: 64, net: `bus_${readers[k - 1]}` }] : []),
          ...(k < readers.length - 1 ? [{ name: "bout", dir: "output" as const, width: 64, net: `bus_${x}` }] : []),
        ]),
      ),
      ...readers.map((x) => mem(`m${x}`, x)),
    ],
  };
}
const areas: Record<string, [number, number]> = { ctrl: [2000, 0], a: [6000, 0], b: [5000, 0], c: [4000, 0], d: [7000, 0], ma: [200, 9000], mb: [200, 7000], mc: [200, 5000], md: [200, 8000] };
const blocksFor = (tier: (i: string) => "bottom" | "top"): Block[] =>
  netlist().instances.map((i) => ({ inst: i.name, kind: i.kind, tier: tier(i.name), cellAreaUm2: areas[i.name][0], macroAreaUm2: areas[i.name][1] }));
// coordinates are rounded to 1 nm: abutting blocks may share 0.002 µm
const overlaps = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) => a.x < b.x + b.w - 2e-3 && b.x < a.x + a.w - 2e-3 && a.y < b.y + b.h - 2e-3 && b.y < a.y + a.h - 2e-3;

describe("floorplan", () => {
  const u = UTILIZATION.value;
  const areaOf = (i: string) => areas[i][0] / u + areas[i][1];
  it("2D: one die of the total area, every block inside, no overlap, deterministic", () => {
    const fp = floorplanView(netlist(), blocksFor(() => "bottom"), { utilization: u, threeD: false });
    expect(fp).toEqual(floorplanView(netlist(), blocksFor(() => "bottom"), { utilization: u, threeD: false }));
    expect(fp.dies.length).toBe(1);
    const total = Object.keys(areas).reduce((a, i) => a + areaOf(i), 0);
    expect(fp.footprintUm2).toBeCloseTo(total, 0);
    const bl = fp.dies[0].blocks;
    for (const b of bl) {
      expect(b.w * b.h).toBeCloseTo(areaOf(b.inst), 0);
      expect(b.x).toBeGreaterThanOrEqual(-1e-6);
      expect(b.y).toBeGreaterThanOrEqual(-1e-6);
      expect(b.x + b.w).toBeLessThanOrEqual(fp.dies[0].widthUm + 1e-3);
      expect(b.y + b.h).toBeLessThanOrEqual(fp.dies[0].heightUm + 1e-3);
    }
    for (let i = 0; i < bl.length; i++) for (let j = i + 1; j < bl.length; j++) expect(overlaps(bl[i], bl[j])).toBe(false);
  });
  it("memory-on-logic: footprint = the larger tier, memories stacked over their consumers", () => {
    const tier = (i: string) => (/^m[a-d]$/.test(i) ? "top" : "bottom");
    const fp = floorplanView(netlist(), blocksFor(tier), { utilization: u, threeD: true });
    const bottom = ["ctrl", "a", "b", "c", "d"].reduce((s, i) => s + areaOf(i), 0);
    const top = ["ma", "mb", "mc", "md"].reduce((s, i) => s + areaOf(i), 0);
    expect(fp.footprintUm2).toBeCloseTo(Math.max(bottom, top), 0);
    expect(fp.dies.map((d) => d.name)).toEqual(["bottom", "top"]);
    for (const d of fp.dies) for (let i = 0; i < d.blocks.length; i++) for (let j = i + 1; j < d.blocks.length; j++) expect(overlaps(d.blocks[i], d.blocks[j])).toBe(false);
    // each memory is over the logic that reads it: laterally closer to its reader than to any other logic block (ctrl, which writes it through the wider port, included)
    for (const x of ["a", "b", "c", "d"])
      for (const other of ["ctrl", "a", "b", "c", "d"].filter((o) => o !== x)) expect(branchOf(fp, `m${x}`, x).lengthUm).toBeLessThan(branchOf(fp, `m${x}`, other).lengthUm);
    expect(branchOf(fp, "ma", "a").bond).toBe(true);
    // and the stacked buffer-to-consumer distance is shorter than in 2D
    const fp2 = floorplanView(netlist(), blocksFor(() => "bottom"), { utilization: u, threeD: false });
    const sum = (f: typeof fp) => ["a", "b", "c", "d"].reduce((s, x) => s + branchOf(f, `m${x}`, x).lengthUm, 0);
    expect(sum(fp)).toBeLessThan(sum(fp2));
  });
  it("wirelength: inter-block = Σ width × star length, charged to the driver's die; latency adds the bond once", () => {
    const nl = netlist();
    const tier = (i: string) => (/^m[a-d]$/.test(i) ? "top" : "bottom");
    const fp = floorplanView(nl, blocksFor(tier), { utilization: u, threeD: true });
    const nets = interNets(nl, fp);
    const ab = nets.find((n) => n.net === "bus_a")!;
    expect(ab.lengthUm).toBeCloseTo(branchOf(fp, "a", "b").lengthUm, 6);
    const bw = blockWires(nl, new Map(nl.instances.map((i) => [i.name, areas[i.name][0]])), new Map(), u);
    expect(bw.every((b) => b.intraUm === 0)).toBe(true); // no Rent data: no cells counted
    const w = viewWire(fp, bw, nets);
    expect(w.interUm).toBeCloseTo(nets.reduce((a, n) => a + n.width * n.lengthUm, 0), 3);
    expect(w.dies.find((d) => d.die === "top")!.interUm).toBeCloseTo(nets.filter((n) => /^m[a-d]$/.test(n.driver)).reduce((a, n) => a + n.width * n.lengthUm, 0), 3);
    const wdm = wireDelayModel({ cell: "INV", rOhm: 2000, cInFf: 10, source: "test" }, { rOhmPerUm: 0.25, cFfPerUm: 0.1, layer: "m3", source: "test" }, { rOhm: 0.02, cFf: 0.5, source: "test" }, 2.5);
    // 2.5 sqrt(2000 * 10e-15 * 0.25 * 0.1e-15) s/um
    expect(wdm.psPerUm).toBeCloseTo(2.5 * Math.sqrt(2000 * 10e-15 * 0.25 * 0.1e-15) * 1e12, 9);
    expect(wdm.bondPs).toBeCloseTo(Math.LN2 * (2000 * 0.5e-15 + 0.02 * 10e-15) * 1e12, 9);
    const paths = pathLatencies(memoryPaths(nl, new Map([["ma", { macro: "x", clkToQNs: 1 }], ["mb", { macro: "y", clkToQNs: 2 }], ["mc", null]])), fp, wdm, 10);
    expect(paths.map((p) => `${p.memory}>${p.consumer}`)).toEqual(["ma>a", "mb>b"]); // mc: flip-flops (no SRAM), md: unknown
    for (const p of paths) {
      expect(p.totalPs).toBeCloseTo(p.clkToQPs + p.lengthUm * wdm.psPerUm + wdm.bondPs, 6);
      expect(p.cycles).toBeCloseTo(p.totalPs / 10000, 9);
    }
  });
  it("every published range names its source", () => {
    for (const p of PUBLISHED) {
      expect(p.source.length).toBeGreaterThan(10);
      expect(p.lo).toBeLessThanOrEqual(p.hi);
    }
  });
});

describe("views of a report", () => {
  it("are built from the hardware resolution: the same for every mode the report is asked for", async () => {
    const { resolveInput, hardwareResolved } = await import("../config/resolve.ts");
    const { viewResolved } = await import("./flow.ts");
    const { buildDesign } = await import("../design.ts");
    const base = { name: "vw", model: { timesteps: 2, tokens: 4, dim: 8, heads: 2, blocks: 1, experts: 2, topK: 1, expertHidden: 8 }, hardware: { synapticLanes: 8 } };
    const modes = ["2d", "memory-on-logic", "logic-on-logic", "auto"] as const;
    const rs = modes.map((mode) => resolveInput({ ...base, integration: { mode } }));
    expect(new Set(rs.map((r) => r.hash)).size, "the point configs differ in their hash").toBe(4);
    const hw = rs.map((r) => hardwareResolved(r));
    expect(hw.map((x) => x.hash), "one hardware resolution, that of the 2d config").toEqual(modes.map(() => rs[0].hash));
    expect(hw.every((x) => x.integration.mode === "2d")).toBe(true);
    for (const v of ["2d", "memory-on-logic"] as const) {
      // (logic-on-logic and auto designs need the synthesized areas: tested through st3d report)
      const files = hw.map((x) => buildDesign(viewResolved(x, v)).files.filter((f) => f.kind === "rtl" || f.kind === "sim").map((f) => `${f.path}\n${f.content}`).join("\n"));
      for (const f of files) expect(f === files[0], `the ${v} view's RTL is the same for every asked-for mode`).toBe(true);
    }
    // a changed hardware field is another hardware
    const other = resolveInput({ ...base, hardware: { synapticLanes: 16 }, integration: { mode: "memory-on-logic" } });
    expect(hardwareResolved(other).hash).not.toBe(hw[1].hash);
  });
});
