// Lint fixture: linted as if it lived under src/machine, these imports run against docs/design.md §2.
import { something } from '../ft/primary';
import { other } from '../ui/store';
export const both = [something, other];
