import type { UiAssets } from '../lib/ui/ui-assets';

export function buildUiAssets(): Promise<UiAssets & { inputs: string[] }>;
export const uiAssetsPlugin: unknown;
