//! Git access behind one trait. (stub: replaced by the git module)
