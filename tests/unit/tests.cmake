# One line per unit test: hwg_unit_test(<file stem> LIBS <libs> LABELS <areas>)
hwg_unit_test(test_buf LIBS hwg_common LABELS api)
hwg_unit_test(test_cbor LIBS hwg_common LABELS api)
hwg_unit_test(test_p11 LIBS hwg_hsm LABELS api)
