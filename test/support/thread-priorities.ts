import fs from 'node:fs';

/** Linux: the nice value of each thread of this process (/proc/self/task/<tid>/stat). */
export function threadNiceValues(): number[] {
  return fs.readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces: nice is the 19th field.
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // the thread ended while being read
    }
  });
}
