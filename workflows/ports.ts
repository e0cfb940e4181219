// Output ports of a node, apart from the zod schema: the workflow bundle needs this, and zod would
// otherwise be loaded and its schemas built again for every run the worker creates.
import type { JourneyNode } from './schema.ts';

/** The output ports of a node; every port must be connected to exactly one node. */
export function nodePorts(node: JourneyNode): string[] {
  switch (node.type) {
    case 'exit':
      return [];
    case 'wait_for_engagement':
    case 'wait_for_event':
      return ['matched', 'timeout'];
    case 'condition':
    case 'engagement_branch':
      return ['true', 'false'];
    case 'split':
      return node.arms.map((a) => a.name);
    case 'wait_until':
      return node.late === 'branch' ? ['next', 'late'] : ['next'];
    default:
      return ['next'];
  }
}
