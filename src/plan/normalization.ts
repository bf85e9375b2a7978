// What the plan says about intensity normalisation per channel (src/preprocess/normalize.ts does it).

export type NormalizationScheme = 'ct' | 'zscore' | 'rescale' | 'none';

export interface CTStats {
  mean: number;
  std: number;
  p005: number;
  p995: number;
}

export interface NormalizationPlan {
  scheme: NormalizationScheme;
  /** Dataset foreground statistics (CT only). */
  ct?: CTStats;
  /** z-score only inside the non-zero mask (outside set to 0). */
  useMask?: boolean;
}
