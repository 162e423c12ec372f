// The start page only needs the shared module: it takes a ?code= function key into the session.
import { markCurrentPage } from './common.js';

markCurrentPage();
