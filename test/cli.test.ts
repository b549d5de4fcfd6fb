/** The command line as a user meets it: validate messages, describe, schema, generate safety. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const ST3D = path.resolve("bin/st3d.js");
const st3d = (args: string[], cwd?: string) => execa("node", [ST3D, ...args], { reject: false, all: true, cwd });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "st3d-cli-"));
const cfgFile = (obj: unknown, ext = "json") => {
  const f = path.join(tmp(), `c.${ext}`);
  fs.writeFileSync(f, typeof obj === "string" ? obj : JSON.stringify(obj));
  return f;
};

describe("st3d validate", () => {
  it("names model.heads when dim % heads != 0", async () => {
    const r = await st3d(["validate", cfgFile({ model: { dim: 384, heads: 5 } })]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/model\.heads/);
    expect(r.all).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
  it("names model.topK when topK > experts", async () => {
    const r = await st3d(["validate", cfgFile({ model: { experts: 4, topK: 9 } })]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/model\.topK/);
  });
  it("names an unknown key", async () => {
    const r = await st3d(["validate", cfgFile({ model: { dim: 64, heads: 4, colour: "red" } })]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/model\.colour: unknown key/);
  });
  it("names a nested wrong type and a bad design name", async () => {
    const r = await st3d(["validate", cfgFile("name: module\nmodel:\n  lif:\n    qkv: { fire: '=>' }\n", "yaml")]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/model\.lif\.qkv\.fire/);
    expect(r.all).toMatch(/name: must not be a Verilog keyword/);
  });
  it("refuses text that is neither JSON nor YAML", async () => {
    const r = await st3d(["validate", cfgFile("{ this is: [not json", "json")]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/not valid JSON/);
  });
  it("accepts every preset and a config with only name and model", async () => {
    for (const p of ["tiny", "cifar", "default"]) expect((await st3d(["validate", p])).exitCode).toBe(0);
    const r = await st3d(["validate", cfgFile({ name: "m1", model: { dim: 16, heads: 4, tokens: 4, timesteps: 2, expertHidden: 8 } })]);
    expect(r.exitCode, r.all).toBe(0);
  });
});

describe("config files that are not one plain mapping", () => {
  const refused = async (file: string, ...must: RegExp[]) => {
    const r = await st3d(["validate", file]);
    expect(r.exitCode, r.all).not.toBe(0);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toMatch(/^st3d: /);
    for (const m of must) expect(r.stderr).toMatch(m);
    expect(r.all).not.toMatch(/internal error|parseAllDocuments|at .*\.ts:\d+/);
  };
  it("duplicate keys are refused in JSON as in YAML, naming the field and where", async () => {
    await refused(cfgFile('{"name": "a", "model": {"dim": 8, "dim": 16}}'), /model\.dim: duplicate key \(at line:column 1:25 and 1:35\)/);
    await refused(cfgFile("name: a\nmodel:\n  dim: 8\n  dim: 16\n", "yaml"), /model\.dim: duplicate key \(at line:column 3:3 and 4:3\)/);
  });
  it("several YAML documents: a clear message, no library hint", async () => {
    await refused(cfgFile("name: a\n---\nname: b\n", "yaml"), /holds 2 YAML documents .*the second starts at line 3.*keep one/);
    // one document with a leading or trailing '---' is fine
    for (const t of ["---\nname: a\n", "name: a\n---\n"]) expect((await st3d(["validate", cfgFile(t, "yaml")])).exitCode).toBe(0);
  });
  it("a folder given as a config", async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, "mine.yaml"), "name: a\n");
    await refused(d, new RegExp(`cannot read config ${d}: it is a folder, not a config file; give a \\.yaml or \\.json file \\(in it: mine\\.yaml\\)`));
  });
  it("NaN and infinities are named, not shown as null", async () => {
    await refused(cfgFile("model:\n  dim: .nan\nhardware:\n  clockMHz: .inf\n", "yaml"), /model\.dim: not a finite number \(got NaN\)/, /hardware\.clockMHz: not a finite number \(got Infinity\); valid: a finite number/);
    await refused(cfgFile('{"hardware": {"clockMHz": 1e999}}'), /hardware\.clockMHz: not a finite number/);
  });
});

describe("st3d describe / schema", () => {
  it("prints derived widths", async () => {
    const r = await st3d(["describe", "cifar"]);
    expect(r.exitCode).toBe(0);
    expect(r.all).toMatch(/linear sum bits \(fan-in D\)\s+18/);
  });
  it("exports a JSON Schema that knows every model key", async () => {
    const r = await st3d(["schema"]);
    const s = JSON.parse(r.stdout);
    const model = s.properties.model.properties;
    for (const k of ["timesteps", "tokens", "dim", "heads", "blocks", "attention", "experts", "topK", "expertHidden", "routing", "weightBits", "biasBits", "accBits", "residBits", "attnShift", "lif"])
      expect(model[k], k).toBeDefined();
    expect(s.properties.model.additionalProperties).toBe(false);
  });
});

describe("st3d generate output safety", () => {
  it("refuses a folder holding foreign files, with or without --force", async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, "notes.txt"), "mine");
    for (const extra of [[], ["--force"]]) {
      const r = await st3d(["generate", "tiny", "-o", d, ...extra]);
      expect(r.exitCode).not.toBe(0);
      expect(r.all).toMatch(/refusing to write into .*: it holds files st3d did not write \(notes\.txt\)/);
      expect(fs.readdirSync(d)).toEqual(["notes.txt"]);
      expect(fs.readFileSync(path.join(d, "notes.txt"), "utf8")).toBe("mine");
    }
  });
  it("regenerates its own folder, but not one edited by hand", async () => {
    const d = path.join(tmp(), "out");
    expect((await st3d(["generate", "tiny", "-o", d])).exitCode).toBe(0);
    expect((await st3d(["generate", "tiny", "-o", d])).exitCode).toBe(0);
    const v = fs.readdirSync(d).find((f) => f.endsWith(".v"))!;
    fs.appendFileSync(path.join(d, v), "// hand edit\n");
    const r = await st3d(["generate", "tiny", "-o", d]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toContain(v);
    expect(r.all).toMatch(/edited since .*pass --force/);
    // --force replaces st3d's own (edited) files
    const f = await st3d(["generate", "tiny", "-o", d, "--force"]);
    expect(f.exitCode, f.all).toBe(0);
    expect(fs.readFileSync(path.join(d, v), "utf8")).not.toContain("hand edit");
  });
});
