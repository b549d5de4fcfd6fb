/**
 * User-facing configuration schema (zod).  This is the *user* config: what a
 * researcher writes.  Every derived width/depth lives in resolve.ts.
 *
 * Field names of the `model` section are fixed by docs/SPEC.md §2.
 * All objects are strict: an unknown key is an error naming that key.  The schema checks each
 * field on its own; relations between fields and the capacity of the design are checked in
 * ./validate.ts.
 */
import { z } from "zod";

/** Verilog-2005 simple identifier, not a keyword, short enough for tools. */
export const VERILOG_KEYWORDS = new Set(
  (
    "always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config deassign default defparam " +
    "design disable edge else end endcase endconfig endfunction endgenerate endmodule endprimitive endspecify endtable " +
    "endtask event for force forever fork function generate genvar highz0 highz1 if ifnone incdir include initial inout " +
    "input instance integer join large liblist library localparam macromodule medium module nand negedge nmos nor " +
    "noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0 pull1 pulldown pullup " +
    "pulsestyle_onevent pulsestyle_ondetect rcmos real realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 " +
    "scalared showcancelled signed small specify specparam strong0 strong1 supply0 supply1 table task time tran " +
    "tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor " +
    "xnor xor logic bit byte int shortint longint"
  ).split(" "),
);

export const verilogName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, {
    message: "must be a Verilog identifier: a letter, then letters, digits or '_' (at most 32 characters)",
  })
  .refine((s) => !VERILOG_KEYWORDS.has(s), { message: "must not be a Verilog keyword" })
  .refine((s) => !/^fakeram/i.test(s), { message: "must not start with 'fakeram' (reserved for the SRAM macro modules, e.g. fakeram45_2p_64x32)" })
  .refine((s) => !/__/.test(s) && !s.endsWith("_"), {
    message: "must not contain '__' or end with '_': modules are named <name>_<block>, and Verilator reserves double underscores (its --top-module cannot select such a module)",
  });

const int = (min: number, max: number) => z.number().int().min(min).max(max);

export const lifSchema = z.strictObject({
  threshold: int(-(2 ** 31), 2 ** 31 - 1).describe("Firing threshold (integer, in membrane units; must fit stateBits)."),
  tauShift: int(0, 15).default(1).describe("Leak shift: tau = 2^tauShift (SPEC §1.1)."),
  decayInput: z.boolean().default(true).describe("true: G = W + ((X - W) >> tauShift); false: G = ((W*(2^tauShift-1)) >> tauShift) + X."),
  fire: z.enum([">=", ">"]).default(">=").describe("Spike when G >= threshold or G > threshold."),
  reset: z.enum(["zero", "subtract"]).default("zero").describe("Hard reset to 0, or soft reset W' = G - threshold."),
  stateBits: int(2, 32).default(16).describe("Width of the saturated membrane state."),
});
export type LifUserConfig = z.infer<typeof lifSchema>;

function lifWith(threshold: number) {
  return lifSchema.extend({ threshold: int(-(2 ** 31), 2 ** 31 - 1).default(threshold).describe("Firing threshold (must fit stateBits).") }).prefault({});
}

export const modelSchema = z
  .strictObject({
    timesteps: int(1, 64).default(4).describe("T, timesteps."),
    tokens: int(1, 4096).default(64).describe("N, tokens."),
    dim: int(1, 4096).default(384).describe("D, model width."),
    heads: int(1, 256).default(12).describe("H, attention heads (D % H == 0)."),
    blocks: int(1, 64).default(4).describe("L, encoder blocks."),
    attention: z.enum(["ssa", "sdsa"]).default("ssa").describe("Spiking self-attention variant."),
    experts: int(1, 64).default(4).describe("E, experts per block."),
    topK: int(1, 64).default(2).describe("k, experts selected per (t, n) or per token."),
    expertHidden: int(1, 16384).default(384).describe("F, expert hidden width."),
    routing: z.enum(["per-step", "per-token"]).default("per-step").describe("Route each (t, n), or each token once from the sum over t."),
    weightBits: int(2, 16).default(8).describe("Signed width of weights."),
    biasBits: int(2, 24).default(16).describe("Signed width of biases."),
    accBits: int(2, 32).default(16).describe("Saturation width of linear-layer outputs."),
    residBits: int(2, 32).default(16).describe("Saturation width of the residual stream U."),
    attnShift: int(0, 31).default(0).describe("Right shift of Y before LIF_attn (ssa)."),
    lif: z
      .strictObject({
        shortcut: lifWith(64).describe("LIF_a and LIF_m (on the residual stream)."),
        qkv: lifWith(64).describe("LIF_q, LIF_k, LIF_v."),
        attn: lifWith(4).describe("LIF_attn (ssa only)."),
        hidden: lifWith(64).describe("LIF_h[e] of every expert."),
      })
      .prefault({})
      .describe("LIF parameters per family."),
  });
export type ModelConfig = z.infer<typeof modelSchema>;

export const hardwareSchema = z
  .strictObject({
    synapticLanes: int(2, 4096)
      .default(84)
      .describe(
        "Synaptic accumulator lanes in total (the lane budget): E go to the router engine (at most half the budget), the rest to the shared synaptic pool that runs every q, k, v, o, fc1 and fc2 layer, trimmed to the fewest lanes that keep the same number of output tiles (docs/ARCHITECTURE.md, 'Lane budget').",
      ),
    tokenGroup: int(1, 256).default(8).describe("Tokens (t, n) held together in a linear engine so one weight word serves all of them."),
    lifLanes: int(1, 256).default(8).describe("Parallel LIF lanes of a LIF neuron array."),
    attnCores: int(1, 256).optional().describe("Physical attention cores (default: one per head)."),
    macroMinBits: int(0, 1 << 24).default(4096).describe("Logical memories below this many bits are flip-flops, not SRAM macros (ORFS SYNTH_MEMORY_MAX_BITS)."),
    weightsOnChip: z
      .boolean()
      .optional()
      .describe(
        "true (the default; the presets' measured figures are of this design): every pool weight lives on chip in one bank per block (wp<b>), written through the host port. false: the pool's weights stream from off-chip memory through an AXI4 read master (chip pins wm_*, docs/HOST.md 'Off-chip weight port') into a double-buffered global weight buffer of hardware.weightBuffer bits (docs/ARCHITECTURE.md 'weightStream'); what a model too large for on-chip banks needs (configs/imagenet.yaml).",
      ),
    weightBuffer: int(1, 2 ** 40)
      .optional()
      .describe(
        "Bits of the global weight buffer, both halves together (weightsOnChip false only). Default: the working set double-buffered, 2 x the largest pool layer's words (tilesD*D, tilesF*D or tilesD*F) x P*weightBits; a half holds floor(weightBuffer / (2*P*weightBits)) words, at least the largest layer (validate names it).",
      ),
    offchipBeatBits: z
      .union([z.literal(32), z.literal(64), z.literal(128), z.literal(256), z.literal(512)])
      .optional()
      .describe(
        "W, bits of an off-chip beat (the AXI data width of wm_rdata; weightsOnChip false only). A pool word of P*weightBits bits takes ceil(P*weightBits/W) beats, the rest zero padding. Default: the widest of 512, 256, 128, 64, 32 whose padding is at most 5 %, else the one with the least padding.",
      ),
    clockMHz: z.number().positive().max(5000).optional().describe("Clock target of synthesis and timing, MHz (default: the cell library's, 100 MHz for OSU018; st3d synth / timing)."),
  })
  .prefault({});
export type HardwareConfig = z.infer<typeof hardwareSchema>;

export const integrationSchema = z
  .strictObject({
    mode: z.enum(["2d", "memory-on-logic", "logic-on-logic", "auto"]).default("memory-on-logic").describe("How the design is split over two face-to-face dies."),
    bondPitchUm: z.number().positive().max(100).default(1).describe("Hybrid-bond pitch in micrometres."),
    bondUsableFraction: z.number().gt(0).max(1).default(0.5).describe("Fraction of the footprint usable for bonds."),
    f2fRegisters: z.boolean().default(false).describe("Reserved: must stay false. true is refused with every 3D mode (a register on each side of the bond would make the tiers 2 cycles off the 2D top, docs/3D.md) and has no effect with mode 2d."),
    balance: z.number().gt(0).max(1).default(0.2).describe("Allowed tier-area imbalance |A_top - A_bot| / (A_top + A_bot) for auto partitioning."),
  })
  .prefault({});
export type IntegrationConfig = z.infer<typeof integrationSchema>;

export const configSchema = z.strictObject({
  name: verilogName.default("st3d").describe("Design name; prefixes every module (Verilog identifier, at most 32 characters, not a keyword, no '__', no trailing '_', not starting with 'fakeram')."),
  model: modelSchema.prefault({}).describe("The workload: SPEC.md §2 names and defaults."),
  hardware: hardwareSchema.describe("Micro-architecture: parallelism and memory mapping."),
  integration: integrationSchema.describe("2D or 3D (two face-to-face dies)."),
});
export type UserConfig = z.infer<typeof configSchema>;
export type UserConfigInput = z.input<typeof configSchema>;
