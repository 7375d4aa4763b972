// Types for deploy/gen-prometheusrule.mjs (imported by test/deploy/manifests.test.ts).
export declare const sourcePath: string;
export declare const outputPath: string;
/** The PrometheusRule text for a Prometheus rule file's text. */
export declare function render(sourceText: string, sourceName?: string): string;
