"""Our input channels (registered in credentials.yml). Each keeps the stock webhook path."""
