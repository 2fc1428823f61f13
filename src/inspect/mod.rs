//! Images as they are (`inspect`, `repro --image`, `dns --image`): an image the user names is
//! resolved and named by its digest (`image`), the Python interpreters in it are found without
//! running anything in it (`interpreters`), and what the wheel probe saw through them is cut
//! into one job per distribution, the unit the comparison works on (`split`). Nothing here
//! installs into an image or commits one.

pub(crate) mod image;
pub(crate) mod interpreters;
pub(crate) mod split;

pub(crate) use image::{resolve, Resolved};
pub(crate) use interpreters::{discover, Interpreter};
