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
  it("refuses to overwrite a folder holding foreign files, unless --force", async () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, "notes.txt"), "mine");
    const r = await st3d(["generate", "tiny", "-o", d]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/refusing to overwrite/);
    expect(fs.readFileSync(path.join(d, "notes.txt"), "utf8")).toBe("mine");
    const f = await st3d(["generate", "tiny", "-o", d, "--force"]);
    expect(f.exitCode, f.all).toBe(0);
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
  });
});
