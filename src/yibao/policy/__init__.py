"""Policy as dated, cited data: YAML per region → validated pydantic models; reforms are overlays."""
