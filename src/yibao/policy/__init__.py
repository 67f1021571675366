"""Policy as dated, cited data: YAML per region → validated models; reforms are overlays."""
