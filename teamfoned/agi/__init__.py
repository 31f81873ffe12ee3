"""The FastAGI adapter: for sites that keep their own dialplan and ask the daemon only where a call goes."""
