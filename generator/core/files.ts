/** A file st3d generates: its path in the output folder, its text and its role. */
export interface GeneratedFile {
  /** path relative to the output folder */
  path: string;
  content: string;
  /**
   * role: "rtl" synthesizable (logic, memory wrappers, flop memories, tops); "sim" behavioral
   * macro models (simulation only); "stub" blackbox macro stubs (synthesis only); "tb" the host
   * testbench; "data" / "report" filelists, JSON, the FuseSoC core and its scripts
   */
  kind: "rtl" | "sim" | "stub" | "tb" | "data" | "report";
}
