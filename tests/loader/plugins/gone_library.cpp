// A library that a test plugin links against and that is then not found at load time.
extern "C" __attribute__((visibility("default"))) int ctxmgr_test_gone_function() { return 0; }
