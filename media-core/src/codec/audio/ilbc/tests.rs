//! Unit tests of the iLBC modules.

use super::*;
