#!/bin/sh
#SBATCH --mem=4X
#SBATCH --cpus
#SBATCH --time
