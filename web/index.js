// The start page only needs the shared module: the navigation and who is signed in.
import { markCurrentPage } from './common.js';

markCurrentPage();
