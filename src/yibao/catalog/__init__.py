"""Drug and service catalogue: 甲/乙/丙 class, price limits, 乙类 first self-pay, restrictions."""
