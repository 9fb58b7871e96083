"""One module per external price feed: its parser and the changes it plans."""
