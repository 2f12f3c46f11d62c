import torch, time
torch.set_num_threads(2)
def bench(M, K, N, reps=50):
    a = torch.randn(M, K); b = torch.randn(K, N)
    for _ in range(5): a @ b
    t = time.perf_counter()
    for _ in range(reps): a @ b
    dt = (time.perf_counter() - t) / reps
    return 2 * M * K * N / dt / 1e9
for shape in [(2048, 2048, 2048), (2048, 128, 384), (2048, 128, 512), (2048, 512, 128), (128, 2048, 512), (512, 2048, 128), (2048, 128, 128), (4096,128,512), (2048,256,1024), (2048,1024,256), (256,2048,1024)]:
    print(shape, f"{bench(*shape):.0f} GFLOP/s")
a = torch.randn(64, 128, 32); b = torch.randn(64, 32, 128)
for _ in range(5): a @ b
t = time.perf_counter()
for _ in range(100): a @ b
dt = (time.perf_counter() - t)/100
print("bmm 64x(128x32 @ 32x128)", f"{2*64*128*32*128/dt/1e9:.0f} GFLOP/s")
