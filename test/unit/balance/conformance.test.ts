import { ewma } from '../../../src/balance/ewma.js';
import { leastConn } from '../../../src/balance/least-conn.js';
import { maglev } from '../../../src/balance/maglev.js';
import { p2c } from '../../../src/balance/p2c.js';
import { random } from '../../../src/balance/random.js';
import { ringHash } from '../../../src/balance/ring-hash.js';
import { roundRobin } from '../../../src/balance/round-robin.js';
import { smoothWeighted } from '../../../src/balance/swrr.js';
import { pickerConformance } from '../../conformance/picker.js';

pickerConformance({ name: 'round-robin', factory: () => roundRobin() });
pickerConformance({ name: 'weighted (swrr)', factory: () => smoothWeighted() });
pickerConformance({ name: 'least-conn', factory: () => leastConn() });
pickerConformance({ name: 'p2c', factory: () => p2c() });
pickerConformance({ name: 'ewma', factory: () => ewma() });
pickerConformance({ name: 'random', factory: () => random() });
pickerConformance({ name: 'ring-hash', factory: ringHash() });
pickerConformance({ name: 'maglev', factory: maglev({ balanceFactor: 1.25, tableSize: 4099 }) });
