/** Plain names of the linear modules LoRA can adapt, shown beside their technical names. */
const PLAIN: Record<string, string> = {
  q_proj: 'query',
  k_proj: 'key',
  v_proj: 'value',
  o_proj: 'attention output',
  gate_proj: 'gate',
  up_proj: 'up',
  down_proj: 'down',
  c_attn: 'query, key and value',
  'attn.c_proj': 'attention output',
  c_fc: 'expand',
  'mlp.c_proj': 'contract',
};

export function plainModuleName(id: string): string {
  return PLAIN[id] ?? id;
}
