#!/usr/bin/env bash
# The k-means/PCA and evolve Slurm scripts run as a batch job would, outside Slurm: `srun` is a shim
# that drops its options and runs the command, so every tessera command line in them is
# checked (options exist, outputs appear).
#   test_slurm_scripts.sh SOURCE_DIR TESSERA WORK_DIR
set -euo pipefail
src=$1 tessera=$2 work=$3
rm -rf "$work" && mkdir -p "$work/bin"
cat >"$work/bin/srun" <<'SH'
#!/usr/bin/env bash
while [[ $# -gt 0 && $1 == -* ]]; do shift; done
exec "$@"
SH
chmod +x "$work/bin/srun"
for script in kmeans_pca_cpu kmeans_pca_gpu; do
  out=$work/$script
  PATH=$work/bin:$PATH SLURM_CPUS_PER_TASK=1 TESSERA=$tessera OUT=$out DATA=digits \
    bash "$src/slurm/$script.sbatch" >"$work/$script.log" 2>&1 || { cat "$work/$script.log"; echo "FAIL: $script"; exit 1; }
  test -s "$out/pca/pca.json" || { echo "FAIL: $script wrote no pca.json"; exit 1; }
  ls "$out"/*/kmeans.json >/dev/null || { echo "FAIL: $script wrote no kmeans.json"; exit 1; }
  echo "ok   $script"
done
for script in evolve_cpu evolve_gpu; do
  out=$work/$script
  PATH=$work/bin:$PATH SLURM_CPUS_PER_TASK=1 TESSERA=$tessera OUT=$out \
    bash "$src/slurm/$script.sbatch" >"$work/$script.log" 2>&1 || { cat "$work/$script.log"; echo "FAIL: $script"; exit 1; }
  ls "$out"/cmaes-*/best.json >/dev/null || { echo "FAIL: $script wrote no best.json"; exit 1; }
  echo "ok   $script"
done
echo "slurm scripts ok"
